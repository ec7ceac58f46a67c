// A Paid Inbox vault on a real anvil for Worker tests (deployed by
// test/fakes/chain.mjs, as for the chain-* files): fund payers through depositFor, sign payments as a wallet would, and
// talk to anvil's test methods (mining, mempool).
import {
  type Address,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  keccak256,
  parseEventLogs,
  publicActions,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { mockUsdcAbi, vaultAbi } from "../worker/chain/abis";
import type { SettleJob } from "../worker/chain/settle-job";
import { forViem, typedPayment } from "../worker/domain/payment-intent";
import wallet1271 from "./fixtures/erc1271-wallet.json";
import type { ChainInfo } from "./provided";

// anvil's account #0 (public test key): deploys, mints and deposits for the payers.
const DEPLOYER = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");

export interface TestVault {
  rpcUrl: string;
  chainId: number;
  vault: Address;
  token: Address;
  deployer: ReturnType<typeof walletClient>;
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
}

function walletClient(rpcUrl: string) {
  return createWalletClient({ account: DEPLOYER, chain: foundry, transport: http(rpcUrl) }).extend(publicActions);
}

export async function rpcCall<T>(rpcUrl: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** The vault of a test anvil (test/fakes/chain.mjs deployed it), with the deployer able to depositFor anyone. */
export async function vaultOn(info: ChainInfo): Promise<TestVault> {
  const deployer = walletClient(info.rpcUrl);
  await send(deployer, info.token, mockUsdcAbi, "mint", [DEPLOYER.address, 10n ** 15n]);
  await send(deployer, info.token, mockUsdcAbi, "approve", [info.vault, 2n ** 255n]);
  return {
    rpcUrl: info.rpcUrl,
    chainId: info.chainId,
    vault: info.vault,
    token: info.token,
    deployer,
    rpc: (method, params) => rpcCall(info.rpcUrl, method, params),
  };
}

async function send(
  client: ReturnType<typeof walletClient>,
  address: Address,
  abi: readonly unknown[],
  functionName: string,
  args: unknown[],
) {
  const hash = await client.writeContract({ address, abi, functionName, args } as never);
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${functionName} reverted`);
  return receipt;
}

/** Credits `amount` in the vault to each of `users` (the deployer pays; users need no ETH). */
export async function fund(v: TestVault, users: Address[], amount: bigint): Promise<void> {
  for (const user of users) await send(v.deployer, v.vault, vaultAbi, "depositFor", [user, amount]);
}

/** A payer key per index, stable across runs. */
export function payerAccount(i: number, salt = "payer") {
  return privateKeyToAccount(keccak256(toHex(`${salt}-${i}`)));
}

export function address(i: number, salt = "recipient"): Address {
  return payerAccount(i, salt).address;
}

/** A payment signed by `signer` (the payer's key, or a wallet owner's for an ERC-1271 payer). */
export async function signedJob(
  v: TestVault,
  signer: ReturnType<typeof payerAccount>,
  p: { payer: Address; recipient: Address; amount: bigint; nonce: bigint; tag: string },
): Promise<SettleJob> {
  const job: SettleJob = {
    payment: {
      payer: p.payer,
      recipient: p.recipient,
      messageId: keccak256(toHex(`message:${p.tag}`)),
      contentHash: keccak256(toHex(`content:${p.tag}`)),
      amount: p.amount.toString(),
      nonce: p.nonce.toString(),
      deadline: String(Math.floor(Date.now() / 1000) + 3600),
    },
    signature: "0x",
    channel: 1,
  };
  job.signature = await signer.signTypedData(
    forViem(typedPayment({ chainId: v.chainId, verifyingContract: v.vault }, job.payment)),
  );
  return job;
}

export async function deployWallet1271(v: TestVault, owner: Address): Promise<Address> {
  const hash = await v.deployer.deployContract({
    abi: wallet1271.abi,
    bytecode: wallet1271.bytecode as Hex,
    args: [owner],
  } as never);
  return (await v.deployer.waitForTransactionReceipt({ hash })).contractAddress as Address;
}

export async function balanceOf(v: TestVault, who: Address): Promise<bigint> {
  return (await v.deployer.readContract({
    address: v.vault,
    abi: vaultAbi,
    functionName: "balanceOf",
    args: [who],
  })) as bigint;
}

/** Every `MessagePaid` / `PaymentSkipped` the vault emitted since `fromBlock`. */
export async function vaultEvents(v: TestVault, fromBlock: bigint) {
  const client = createPublicClient({ chain: foundry, transport: http(v.rpcUrl) });
  const latest = await client.getBlockNumber({ cacheTime: 0 });
  if (fromBlock > latest) return [];
  const logs = await client.getLogs({ address: v.vault, fromBlock, toBlock: latest });
  return parseEventLogs({ abi: vaultAbi, logs });
}

export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
