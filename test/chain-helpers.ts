// Chain-mode test helpers: the Worker with LEDGER_MODE=chain pointed at a test
// anvil (test/fakes/chain.mjs), called through its real fetch and scheduled
// handlers, and viem clients for what wallets and the relayer do on chain.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import {
  type Account,
  type Address,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  parseEventLogs,
  type TransactionReceipt,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { expect } from "vitest";
import { signAccessToken } from "../worker/auth/sessions";
import { mockUsdcAbi, vaultAbi } from "../worker/chain/abis";
import type { SettleJob } from "../worker/chain/settle-job";
import { forViem, paymentValues, type TypedPayment } from "../worker/domain/payment-intent";
import worker from "../worker/index";
import { ORIGIN } from "./helpers";
import type { ChainInfo } from "./provided";

/** anvil's account #2: mints test USDC (MockUSDC lets anyone) and, in the files that settle by hand, plays the relayer. */
const MINTER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
export const CONFIRMATIONS = 2;

export function chainEnv(info: ChainInfo, extra: Record<string, string> = {}): Env {
  return {
    ...env,
    LEDGER_MODE: "chain",
    CHAIN_RPC_URL: info.rpcUrl,
    VAULT_ADDRESS: info.vault,
    TOKEN_ADDRESS: info.token,
    CHAIN_ID: String(info.chainId),
    CONFIRMATIONS: String(CONFIRMATIONS),
    CHAIN_START_BLOCK: String(info.deployBlock),
    INDEXER_RUN_MS: "0",
    INDEXER_POLL_MS: "0",
    ...extra,
  } as Env;
}

export async function call<T = any>(
  e: Env,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`${ORIGIN}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    }),
    e,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/** The real cron handler (housekeeping + the indexer, which catches up and returns with INDEXER_RUN_MS=0). */
export async function runCron(e: Env): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), e, ctx);
  await waitOnExecutionContext(ctx);
}

export function chainTools(info: ChainInfo) {
  const chain = { ...foundry, rpcUrls: { default: { http: [info.rpcUrl] } } };
  const pub = createPublicClient({ chain, cacheTime: 0, transport: http(info.rpcUrl) });
  const rpc = (method: string, params: unknown[] = []) => pub.request({ method, params } as never) as Promise<any>;
  const minter = privateKeyToAccount(MINTER_KEY);

  async function send(account: Account, address: Address, abi: any, functionName: string, args: unknown[]) {
    const w = createWalletClient({ account, chain, transport: http(info.rpcUrl) });
    const hash = await w.writeContract({ address, abi, functionName, args } as never);
    const receipt = await pub.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${functionName} reverted`);
    return receipt;
  }

  const tools = {
    pub,
    rpc,
    /** Mines n empty blocks. */
    mine: (n: number) => rpc("anvil_mine", [`0x${n.toString(16)}`]),
    snapshot: () => rpc("evm_snapshot") as Promise<Hex>,
    revert: (id: Hex) => rpc("evm_revert", [id]),
    vaultBalance: (a: Address) =>
      pub.readContract({ address: info.vault, abi: vaultAbi, functionName: "balanceOf", args: [a] }),
    /** Gas money and test USDC for a fresh wallet. */
    async fund(a: Address, usdc: bigint) {
      await rpc("anvil_setBalance", [a, "0x56BC75E2D63100000"]);
      await send(minter, info.token, mockUsdcAbi, "mint", [a, usdc]);
    },
    /** approve + deposit from the wallet itself (or depositFor another address). */
    async deposit(from: Account, amount: bigint, forAddress?: Address): Promise<TransactionReceipt> {
      await send(from, info.token, mockUsdcAbi, "approve", [info.vault, amount]);
      return forAddress
        ? send(from, info.vault, vaultAbi, "depositFor", [forAddress, amount])
        : send(from, info.vault, vaultAbi, "deposit", [amount]);
    },
    withdraw: (from: Account, amount: bigint) => send(from, info.vault, vaultAbi, "withdraw", [amount]),
    /** A payment the wallet makes itself on chain (sendMessagePayment), with no intent of ours. */
    payDirect: (from: Account, recipient: Address, amount: bigint, messageId: Hex) =>
      send(from, info.vault, vaultAbi, "sendMessagePayment", [recipient, messageId, messageId, 0, amount]),
    /** A settleBatch transaction sent by hand (test/chain-relayer.test.ts goes through the real Relayer). */
    async settle(jobs: SettleJob[]): Promise<TransactionReceipt> {
      const payments = jobs.map((j) => ({
        payment: paymentValues(j.payment),
        channel: j.channel,
        signature: j.signature,
      }));
      return send(minter, info.vault, vaultAbi, "settleBatch", [payments]);
    },
    paidEvents: (r: TransactionReceipt) => parseEventLogs({ abi: vaultAbi, logs: r.logs, eventName: "MessagePaid" }),
    skippedEvents: (r: TransactionReceipt) =>
      parseEventLogs({ abi: vaultAbi, logs: r.logs, eventName: "PaymentSkipped" }),
  };
  return tools;
}

/** Accepted payments of `userId` waiting for the relayer, oldest nonce first. */
export async function openJobs(userId: string): Promise<SettleJob[]> {
  return (await env.ACCOUNT.getByName(userId).openSettleJobs()) as SettleJob[];
}

/** SettleJobs appear once the sender's Account has booked the recipient's commit (a short group-commit timer). */
export async function jobsOf(userId: string, n: number): Promise<SettleJob[]> {
  for (let i = 0; i < 50; i++) {
    const jobs = await openJobs(userId);
    if (jobs.length >= n) return jobs;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`expected ${n} settle jobs for ${userId}`);
}

/** Asks for an intent, signs it with `signer` (the wallet, or a smart account's owner), sends. */
export async function paySend(
  e: Env,
  token: string,
  to: string,
  body: string,
  signer: { signTypedData: (t: any) => Promise<Hex> },
  headers: Record<string, string> = {},
) {
  const intent = await call(e, "POST", "/v1/payments/intents", { token, body: { to, body }, headers });
  if (intent.status !== 200) return intent;
  const t = intent.body.typedData as TypedPayment;
  const signature = await signer.signTypedData(forViem(t));
  return call(e, "POST", "/v1/messages", {
    token,
    headers,
    body: { to, body, payment: { message: t.message, signature } },
  });
}

/** GET /v1/me balance + held, and the Account's chain pending. */
export async function money(e: Env, token: string) {
  const me = await call(e, "GET", "/v1/me", { token });
  return { balance: BigInt(me.body.balance), held: BigInt(me.body.held) };
}

/** Mines CONFIRMATIONS blocks, then runs the real cron (the indexer applies what they confirmed). */
export async function confirmAndIndex(e: Env, chain: ReturnType<typeof chainTools>): Promise<void> {
  await chain.mine(CONFIRMATIONS);
  await runCron(e);
}

/** Sums of the Accounts' money totals. */
export async function totals(ids: string[]) {
  const sum = { deposits: 0n, withdrawals: 0n, balance: 0n, held: 0n, fees: 0n };
  for (const id of ids) {
    const t = await env.ACCOUNT.getByName(id).totals();
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += BigInt(t[k]);
  }
  return sum;
}

/**
 * Every user's mirror (balance + held) equals their vault balance, and
 * deposits − withdrawals = balances + held + fees over them all.
 */
export async function expectConsistent(
  chain: ReturnType<typeof chainTools>,
  users: { id: string; address: Address }[],
): Promise<void> {
  for (const u of users) {
    const t = await env.ACCOUNT.getByName(u.id).totals();
    expect(BigInt(t.balance) + BigInt(t.held), `mirror of ${u.id}`).toBe(await chain.vaultBalance(u.address));
  }
  const sum = await totals(users.map((u) => u.id));
  expect(sum.deposits - sum.withdrawals).toBe(sum.balance + sum.held + sum.fees);
}

/** A user with no wallet yet (as after passkey or social sign-in). */
export async function walletless(e: Env, name: string) {
  const id = `u_${name}${Date.now().toString(36)}`;
  await env.DB.prepare("INSERT INTO users (id, handle) VALUES (?, ?)")
    .bind(id, `${name}_${Date.now().toString(36)}`)
    .run();
  return { id, token: await signAccessToken(e, id) };
}

/** Links `wallet` to the signed-in user (SIWE through POST /v1/me/wallet); the answer is returned. */
export async function linkWallet(e: Env, token: string, wallet: PrivateKeyAccount) {
  const challenge = await call(e, "POST", "/v1/auth/siwe/challenge", { body: { address: wallet.address } });
  const signature = await wallet.signMessage({ message: challenge.body.message });
  return call(e, "POST", "/v1/me/wallet", { token, body: { message: challenge.body.message, signature } });
}

/** The D1 unclaimed-funds row of an address no user has linked (null once claimed). */
export const unclaimedOf = (a: Address) =>
  env.DB.prepare("SELECT amount, last_block, last_log_index FROM unclaimed_deposits WHERE address = ?")
    .bind(a)
    .first<{ amount: string; last_block: number; last_log_index: number }>();
