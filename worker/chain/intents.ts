// Payment intents (chain mode): the server writes the EIP-712 `Payment` the
// wallet signs; the send carries it back with the signature, and the sender's
// Account checks every field again before it holds anything
// (durable-objects/account/chain.ts). Nothing is reserved when an intent is
// issued, so an abandoned intent blocks nothing (docs/architecture.md, Chain mode).
import { type Address, createPublicClient, type Hex, http } from "viem";
import type { ChainPayment } from "../../durable-objects/account/chain";
import { config } from "../config";
import { type MessageId, messageIdFor } from "../domain/message-id";
import {
  contentHashOf,
  INTENT_TTL_SECONDS,
  type PaymentMessage,
  type TypedPayment,
  typedPayment,
} from "../domain/payment-intent";
import { ApiError } from "../http/errors";
import { errorSummary } from "../observability/log";
import { vaultAbi } from "./abis";
import { type ChainConfig, requireChain } from "./config";
import { feeMismatch, vaultFeeBps } from "./vault-fee";
import { walletsOf } from "./wallets";

export interface IntentAnswer {
  messageId: MessageId;
  quote: { price: string; fee: string; total: string };
  typedData: TypedPayment;
  expiresAt: string;
}

/** Both sides of a chain payment need a linked wallet: a clear 409 before anything is signed. */
export async function requireWallets(env: Env, senderId: string, recipientId: string) {
  const wallets = await walletsOf(env, [senderId, recipientId]);
  const payer = wallets.get(senderId);
  const recipient = wallets.get(recipientId);
  if (!payer) {
    throw new ApiError(409, "wallet_required", "Link a wallet to pay on chain: sign a SIWE challenge with it.", {
      challenge: "/v1/auth/siwe/challenge",
      link: "/v1/me/wallet",
    });
  }
  if (!recipient) {
    throw new ApiError(409, "recipient_wallet_required", "The recipient has no linked wallet to be paid on chain yet.");
  }
  return { payer, recipient };
}

/** The vault's current nonce for `payer`, or null when the RPC does not answer (the Account's own view then stands). */
async function vaultNonce(c: ChainConfig, payer: Address): Promise<string | null> {
  try {
    const client = createPublicClient({ transport: http(c.rpcUrl, { retryCount: 0, timeout: 5_000 }) });
    const n = await client.readContract({ address: c.vault, abi: vaultAbi, functionName: "nonces", args: [payer] });
    return `${n}`;
  } catch (err) {
    console.warn(`vault nonce read failed: ${errorSummary(err)}`);
    return null;
  }
}

export interface IntentInput {
  senderId: string;
  recipientId: string;
  body: string;
  maxPrice: string | null;
  idempotencyKey: string | null;
  /** Keep this messageId (a fresh intent for a send that was refused as stale). */
  messageId?: MessageId;
}

export async function issueIntent(env: Env, input: IntentInput): Promise<IntentAnswer> {
  const c = requireChain(env);
  if (input.senderId === input.recipientId) throw new ApiError(400, "self_send", "You cannot send to yourself.");
  const { payer, recipient } = await requireWallets(env, input.senderId, input.recipientId);
  const { quote } = await env.ACCOUNT.getByName(input.recipientId).quoteFor(input.senderId);
  if (!quote) throw new ApiError(404, "recipient_not_found", "No such recipient.");
  if (quote.price === 0n) {
    throw new ApiError(409, "payment_not_needed", "This message is free: send it without a payment.");
  }
  if (input.maxPrice !== null && quote.price > BigInt(input.maxPrice)) {
    throw new ApiError(409, "price_above_max", "The recipient's price is above your maxPrice.", {
      price: `${quote.price}`,
    });
  }
  const [nonce, vaultBps] = await Promise.all([vaultNonce(c, payer), vaultFeeBps(c)]);
  // The quote's fee is FEE_BPS; the vault takes its own at settlement. Never ask for a signature while they differ.
  const mismatch = feeMismatch(config(env).feeBps, vaultBps);
  if (mismatch) {
    console.error(`fee_mismatch: ${mismatch}`);
    throw new ApiError(503, "fee_mismatch", "Payments are paused: the app's fee does not match the vault's.");
  }
  const account = await env.ACCOUNT.getByName(input.senderId).chainIntent(nonce);
  if (quote.total > BigInt(account.available)) {
    throw new ApiError(402, "insufficient_balance", "Your confirmed vault balance does not cover price + fee.", {
      required: `${quote.total}`,
      balance: account.available,
    });
  }
  const deadline = Math.floor(Date.now() / 1000) + INTENT_TTL_SECONDS;
  const message: PaymentMessage = {
    payer,
    recipient,
    messageId: input.messageId ?? messageIdFor(input.senderId, input.idempotencyKey ?? undefined),
    contentHash: contentHashOf(input.body),
    amount: `${quote.price}`,
    nonce: account.nonce,
    deadline: `${deadline}`,
  };
  return {
    messageId: message.messageId as MessageId,
    quote: { price: `${quote.price}`, fee: `${quote.fee}`, total: `${quote.total}` },
    typedData: typedPayment({ chainId: c.chainId, verifyingContract: c.vault }, message),
    expiresAt: new Date(deadline * 1000).toISOString(),
  };
}

/** What a chain send hands the Accounts: the signed payment and who must be named in it. */
export async function chainPaymentFor(
  env: Env,
  senderId: string,
  recipientId: string,
  payment: { message: PaymentMessage; signature: Hex },
): Promise<ChainPayment> {
  const c = requireChain(env);
  const { payer, recipient } = await requireWallets(env, senderId, recipientId);
  return {
    payment: payment.message,
    signature: payment.signature,
    domain: { chainId: c.chainId, verifyingContract: c.vault },
    payerWallet: payer,
    recipientWallet: recipient,
    rpcUrl: c.rpcUrl,
    channel: 0,
  };
}
