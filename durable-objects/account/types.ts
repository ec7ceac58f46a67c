// The Account's shapes: its state, the transaction handle a commit body gets,
// the RPC requests and answers, and `AccountCore`, the part of the Account the
// concern modules beside this file work through. Kept apart so the modules and
// the Worker import the shapes without importing the Durable Object class.
import type { MessageId } from "../../worker/domain/message-id";
import type { PricingPolicy } from "../../worker/domain/pricing";
import type { Bucket, BucketLimit } from "../../worker/domain/rate-limit";
import type { AbuseLimits, AbuseReason, Reputation } from "../../worker/domain/reputation";
import type { ModerationKind } from "./audit";
import type { ChainFail, ChainPayment } from "./chain";

export type LedgerKind =
  | "topup"
  | "send"
  | "receive"
  | "fee"
  | "hold"
  | "release"
  | "refund"
  | "withdraw"
  | "deposit"
  | ModerationKind;

export interface State {
  userId: string;
  handle: string | null;
  balance: bigint;
  held: bigint;
  fees: bigint;
  topups: bigint;
  deposits: bigint;
  withdrawals: bigint;
  policy: PricingPolicy;
  sendBucket: Bucket | null;
  receiveBucket: Bucket | null;
  /** Highest ledger id written; entries get ids in memory and are inserted together. */
  lastLedgerId: number;
  /** Hash of the last ledger entry (the audit chain's head). */
  auditHead: string;
  /** Sender reputation (abuse controls); null until the first sign-up record or first contact. */
  reputation: Reputation | null;
  /** Why an admin froze this account (sends and withdrawals refused), or null. */
  frozen: string | null;
}

export interface Delta {
  balance?: bigint;
  held?: bigint;
  fees?: bigint;
}

/** Handed to the body of a commit: the draft state and ways to record what changed. */
export interface Tx {
  s: State;
  entry(kind: LedgerKind, amount: bigint, delta: Delta, ref: string | null): number;
}

export type Fail<C extends string, D = object> = { ok: false; code: C } & D;

export interface SendRequest {
  messageId: MessageId;
  senderId: string;
  recipientId: string;
  /** The handle the Worker addressed (from its cache); refused if it is no longer ours. */
  expectHandle: string | null;
  body: string;
  maxPrice: string | null;
  requestHash: string;
  inReplyTo: MessageId | null;
  /** Chain mode: the payer's signed payment (the recipient passes it on to the sender's debit). */
  chain?: ChainPayment;
  /** Chain mode: a send without a signed payment is refused unless the message is free. */
  chainRequired?: boolean;
  /** The Worker believes this is the first reply to an escrowed message (free; see account/escrow.ts). */
  freeReply: boolean;
  /** Sender reputation thresholds for first contacts (from the Worker's config); null: checks off. */
  abuse: AbuseLimits | null;
}

export interface SendReceipt {
  messageId: string;
  price: string;
  fee: string;
  total: string;
  status: "delivered" | "escrowed" | "accepted";
  createdAt: string;
}

export type ReceiveResult =
  | { ok: true; replayed: boolean; receipt: SendReceipt }
  | Fail<"insufficient_balance", { required: string; balance: string }>
  | Fail<"price_above_max", { price: string }>
  | Fail<"sender_blocked">
  | Fail<"idempotency_conflict">
  | Fail<"idempotency_in_progress">
  | Fail<"message_aborted">
  | Fail<"stale_recipient">
  | Fail<"free_reply_unavailable">
  | Fail<"rate_limited", { retryAfterSeconds: number; reason?: AbuseReason }>
  | Fail<"payment_intent_required", { price: string }>
  | Fail<"sender_restricted", { reason: AbuseReason }>
  | Fail<"account_frozen">
  | ChainFail;

export interface DebitRequest {
  messageId: MessageId;
  recipientId: string;
  recipientHandle: string | null;
  price: string;
  fee: string;
  body: string;
  requestHash: string;
  inReplyTo: MessageId | null;
  chain?: ChainPayment;
  /** Free first reply to an escrow this (sending) Account holds; checked here, where the escrow is. */
  freeReply: boolean;
  abuse: AbuseLimits | null;
}

export type DebitResult =
  | { ok: true; senderHandle: string | null }
  | Fail<"insufficient_balance", { required: string; balance: string }>
  | Fail<"free_reply_unavailable">
  | Fail<"idempotency_conflict">
  | Fail<"message_aborted">
  | Fail<"rate_limited", { retryAfterSeconds: number; reason?: AbuseReason }>
  | Fail<"sender_restricted", { reason: AbuseReason }>
  | Fail<"account_frozen">
  | ChainFail;

export type ResolveAnswer = { state: "pending" } | { state: "delivered"; status: string } | { state: "aborted" };

export interface InboxMessage {
  messageId: string;
  from: { id: string; handle: string | null };
  body: string;
  price: string;
  status: string;
  createdAt: string;
  readAt: string | null;
  txHash: string | null;
  inReplyTo: string | null;
  /** Pay-on-reply messages: the end of this message's own reply window. */
  replyBy: string | null;
}

export interface OutboxMessage {
  messageId: string;
  to: { id: string; handle: string | null };
  body: string;
  price: string;
  fee: string;
  status: string;
  createdAt: string;
  inReplyTo: string | null;
  /** Chain mode: the settling transaction, and why a payment failed. */
  txHash: string | null;
  failure: string | null;
}

export interface LedgerEntryJson {
  id: string;
  kind: LedgerKind;
  amount: string;
  balanceAfter: string;
  ref: string | null;
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type IdempotentResult<T> =
  | { ok: true; status: number; body: T; replayed: boolean }
  | Fail<"idempotency_conflict">
  | Fail<"insufficient_balance", { required: string; balance: string }>;

/** Fault points tests can arm through runInDurableObject to break the protocol. */
export type Fault =
  | "debit:throw_before_hold"
  | "debit:throw_after_hold"
  | "receive:crash_after_debit"
  | "receive:commit_throws"
  | "settle:throw"
  | "escrow_outcome:throw";

/**
 * What the concern modules (receive/debit, holds, moderation…) use of the
 * Account: its storage, its current state and the one way to change both
 * (`commit`). `s` is read fresh on every access: after an await it may be a
 * newer state than before it.
 */
export interface AccountCore {
  readonly sql: SqlStorage;
  readonly env: Env;
  readonly s: State;
  readonly faults: ReadonlySet<Fault>;
  /** messageIds this Account is receiving right now (awaiting the sender's debit). */
  readonly inFlight: Set<string>;
  /** Settles waiting for this Account's next commit (messageId → status). */
  readonly pendingSettles: Map<string, string>;
  commit<T>(body: (tx: Tx) => T): T;
  ensureAlarm(at: number): void;
  userId(): string;
  limits(): { send: BucketLimit; receive: BucketLimit };
  /** A commit accepted chain payments: their SettleJobs go to the queue once it is done. */
  settleJobsDue(): void;
}

/** Retry delay for work that failed (queue flush, escrow notifications, chain notices). */
export const RETRY_MS = 5_000;

export type Row = Record<string, SqlStorageValue>;
export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
export const big = (v: SqlStorageValue) => BigInt(v as string);
