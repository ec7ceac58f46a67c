// Chain mode in the browser, through the user's EIP-1193 wallet and viem (loaded
// on demand, like wallet sign-in): pay for a message by signing the server's
// EIP-712 intent, deposit into the vault (approve + deposit), withdraw from it.
// The server never holds a key of the user's: custody is the vault.
import { createPublicClient, createWalletClient, custom, getAddress, type Hex, parseAbi } from "viem";
import { api, call } from "../api/client";
import { ApiError } from "../api/errors";
import type { Eip1193Provider } from "../auth/wallets";

const erc20 = parseAbi(["function approve(address spender, uint256 amount) returns (bool)"]);
const vaultAbi = parseAbi(["function deposit(uint256 amount)", "function withdraw(uint256 amount)"]);

export interface VaultInfo {
  chainId: number;
  vault: string;
  token: string | null;
  confirmations: number;
}

/** The wallet's account, which must be the user's linked wallet (the vault account the server knows). */
async function connect(provider: Eip1193Provider, linked: string | null, chainId?: number) {
  const wallet = createWalletClient({ transport: custom(provider) });
  const [address] = await wallet.requestAddresses();
  if (!address) throw new Error("The wallet shared no account.");
  if (linked && getAddress(address) !== getAddress(linked)) {
    throw new Error(`Switch your wallet to your linked account ${linked.slice(0, 6)}…${linked.slice(-4)}.`);
  }
  if (chainId !== undefined && (await wallet.getChainId()) !== chainId) await wallet.switchChain({ id: chainId });
  return { wallet, address };
}

interface TypedData {
  domain: { name: string; version: string; chainId: number; verifyingContract: string };
  types: { Payment: readonly { name: string; type: string }[] };
  primaryType: "Payment";
  message: Record<"payer" | "recipient" | "messageId" | "contentHash" | "amount" | "nonce" | "deadline", string>;
}

/** Intents the server hands back when a signed payment is refused but re-signing fixes it. */
const RESIGN = new Set(["intent_stale", "intent_mismatch", "intent_expired"]);

export interface PayInput {
  /** handle or user id (a reply goes to the original sender's id). */
  to: string;
  body: string;
  maxPrice: string;
  idempotencyKey: string;
  /** Reply to this message instead of a new send. */
  replyTo?: string;
}

/** Intent → the wallet signs → send. Re-signs once if another tab took the nonce meanwhile. */
export async function payBySigning(provider: Eip1193Provider, linked: string | null, input: PayInput) {
  const header = { "idempotency-key": input.idempotencyKey };
  let intent = await call(
    api.POST("/v1/payments/intents", {
      params: { header },
      body: { to: input.to, body: input.body, maxPrice: input.maxPrice },
    }),
  );
  const { wallet, address } = await connect(provider, linked, intent.typedData.domain.chainId);
  for (let attempt = 0; ; attempt++) {
    const t = intent.typedData as TypedData;
    const signature = await wallet.signTypedData({
      account: address,
      domain: { ...t.domain, verifyingContract: t.domain.verifyingContract as Hex },
      types: { Payment: [...t.types.Payment] },
      primaryType: "Payment",
      message: {
        ...t.message,
        amount: BigInt(t.message.amount),
        nonce: BigInt(t.message.nonce),
        deadline: BigInt(t.message.deadline),
      },
    });
    const payment = { message: t.message, signature } as never;
    try {
      if (input.replyTo) {
        return await call(
          api.POST("/v1/inbox/{messageId}/reply", {
            params: { header, path: { messageId: input.replyTo } },
            body: { body: input.body, maxPrice: input.maxPrice, payment },
          }),
        );
      }
      return await call(
        api.POST("/v1/messages", {
          params: { header },
          body: { to: input.to, body: input.body, maxPrice: input.maxPrice, payment },
        }),
      );
    } catch (err) {
      const fresh = err instanceof ApiError ? (err.details.intent as typeof intent | undefined) : undefined;
      if (attempt > 0 || !(err instanceof ApiError) || !RESIGN.has(err.code) || !fresh) throw err;
      intent = fresh;
    }
  }
}

/** approve + deposit from the wallet; resolves with the deposit's transaction hash. */
export async function depositToVault(provider: Eip1193Provider, linked: string | null, v: VaultInfo, amount: bigint) {
  if (!v.token) throw new Error("This deployment has no token address configured.");
  const { wallet, address } = await connect(provider, linked, v.chainId);
  const approval = await wallet.writeContract({
    account: address,
    chain: null, // connect() switched the wallet to v.chainId
    address: v.token as Hex,
    abi: erc20,
    functionName: "approve",
    args: [v.vault as Hex, amount],
  });
  // The deposit pulls the allowance: wait until the approval is mined.
  await createPublicClient({ transport: custom(provider) }).waitForTransactionReceipt({ hash: approval });
  return wallet.writeContract({
    account: address,
    chain: null, // connect() switched the wallet to v.chainId
    address: v.vault as Hex,
    abi: vaultAbi,
    functionName: "deposit",
    args: [amount],
  });
}

/** withdraw from the vault to the wallet; resolves with the transaction hash. */
export async function withdrawFromVault(
  provider: Eip1193Provider,
  linked: string | null,
  v: VaultInfo,
  amount: bigint,
) {
  const { wallet, address } = await connect(provider, linked, v.chainId);
  return wallet.writeContract({
    account: address,
    chain: null, // connect() switched the wallet to v.chainId
    address: v.vault as Hex,
    abi: vaultAbi,
    functionName: "withdraw",
    args: [amount],
  });
}
