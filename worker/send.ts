// The send path as seen from the Worker: one call to the recipient's Account,
// which debits the sender's Account itself; then, off the response path, the
// sender settles its hold. (DESIGN.md §3, docs/architecture.md.)
import type { Hex } from "viem";
import type { ChainPayment } from "../durable-objects/account/chain";
import type { SendReceipt } from "../durable-objects/account/types";
import { chainPaymentFor, issueIntent, requireWallets } from "./chain/intents";
import { config } from "./config";
import { type MessageId, messageIdFor } from "./domain/message-id";
import type { PaymentMessage } from "./domain/payment-intent";
import { ApiError, notFound } from "./http/errors";
import { failToError } from "./http/outcomes";
import { requestHash } from "./http/request";
import { bump } from "./observability/counters";
import { errorSummary, metric } from "./observability/log";
import { resolveSendTarget, type SendTarget } from "./recipients";

export interface SendInput {
  senderId: string;
  body: string;
  maxPrice: string | null;
  idempotencyKey: string | null;
  inReplyTo: MessageId | null;
  /** Chain mode: the payment intent's typed data as signed by the payer's wallet. */
  payment?: { message: PaymentMessage; signature: Hex } | null;
  /** Try it as the free first reply to an escrowed message (see durable-objects/account/escrow.ts). */
  freeReply?: boolean;
}

export interface Sent {
  receipt: SendReceipt;
  replayed: boolean;
}

/** Sends to a handle, @handle or user id. */
export async function sendTo(env: Env, ctx: Pick<ExecutionContext, "waitUntil">, to: string, input: SendInput) {
  const target = await resolveSendTarget(env, to);
  if (!target) throw notFound("recipient_not_found", "No such recipient.");
  const first = await sendMessage(env, ctx, target, input);
  if (first !== "stale_recipient") return first;
  // The cached handle moved to someone else: look it up again, once.
  const fresh = await resolveSendTarget(env, to, true);
  if (!fresh) throw notFound("recipient_not_found", "No such recipient.");
  return sendToId(env, ctx, fresh.id, input);
}

/** Sends to a user id known to be current (a fresh lookup, the sender of a message being answered). */
export async function sendToId(
  env: Env,
  ctx: Pick<ExecutionContext, "waitUntil">,
  recipientId: string,
  input: SendInput,
) {
  // Without an expected handle the recipient never answers "stale_recipient".
  return (await sendMessage(env, ctx, { id: recipientId, expectHandle: null }, input)) as Sent;
}

async function sendMessage(
  env: Env,
  ctx: Pick<ExecutionContext, "waitUntil">,
  target: SendTarget,
  input: SendInput,
): Promise<Sent | "stale_recipient"> {
  if (target.id === input.senderId) throw new ApiError(400, "self_send", "You cannot send to yourself.");
  let messageId = messageIdFor(input.senderId, input.idempotencyKey ?? undefined);
  let chain: ChainPayment | undefined;
  const chainMode = config(env).ledgerMode === "chain";
  if (chainMode && input.payment) {
    chain = await chainPaymentFor(env, input.senderId, target.id, input.payment);
    // The message is the one the payer signed for (the intent fixed its id).
    messageId = chain.payment.messageId.toLowerCase() as MessageId;
    if (input.idempotencyKey && messageId !== messageIdFor(input.senderId, input.idempotencyKey)) {
      throw new ApiError(409, "idempotency_conflict", "This payment was issued for another Idempotency-Key.");
    }
  } else if (chainMode) {
    // Both sides need a wallet in chain mode; without a signed payment only a free message goes through.
    await requireWallets(env, input.senderId, target.id);
  }
  const result = await env.ACCOUNT.getByName(target.id).receive({
    messageId,
    senderId: input.senderId,
    recipientId: target.id,
    expectHandle: target.expectHandle,
    body: input.body,
    maxPrice: input.maxPrice,
    // Only a keyed request can be repeated (unkeyed messageIds are random), so only it needs a fingerprint.
    requestHash: input.idempotencyKey
      ? await requestHash([target.id, input.body, input.maxPrice, input.inReplyTo])
      : "",
    inReplyTo: input.inReplyTo,
    chain,
    chainRequired: chainMode,
    abuse: config(env).abuse,
    freeReply: input.freeReply ?? false,
  });
  if (!result.ok) {
    if (result.code === "stale_recipient") return "stale_recipient";
    // Someone else's reply claimed the escrow first, or the window just closed: an ordinary reply.
    if (result.code === "free_reply_unavailable") return sendMessage(env, ctx, target, { ...input, freeReply: false });
    if ("reason" in result && result.reason) {
      bump("abuse_refused");
      metric(env, { kind: "abuse_refused", label: result.reason, status: result.code === "rate_limited" ? 429 : 403 });
    }
    const error = failToError(result);
    if (chain && REISSUE.has(result.code)) {
      // Re-signing is all the client has to do: hand it the intent that would be accepted now.
      const intent = await issueIntent(env, {
        senderId: input.senderId,
        recipientId: target.id,
        body: input.body,
        maxPrice: input.maxPrice,
        idempotencyKey: input.idempotencyKey,
        messageId,
      }).catch(() => null);
      throw new ApiError(error.status, error.code, error.message, { ...error.details, intent });
    }
    throw error;
  }
  // Settling is idempotent; if this is lost the sender's alarm resolves the hold.
  ctx.waitUntil(
    env.ACCOUNT.getByName(input.senderId)
      .settle(messageId, result.receipt.status)
      .catch((err: Error) => console.warn(`settle deferred to alarm: ${errorSummary(err)}`)),
  );
  return { receipt: result.receipt, replayed: result.replayed };
}

/** Refusals a fresh intent fixes: another tab used the nonce, the price moved, the deadline passed. */
const REISSUE = new Set(["intent_stale", "intent_mismatch", "intent_expired"]);
