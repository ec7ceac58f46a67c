// Account Durable Object: one per user (named by user id), the serialization
// point for that user's money and inbox. See docs/architecture.md "Send path".
//
// Every read-modify-write happens inside one `transactionSync` with no await in
// between, so a second request never sees half-done state. The only awaits are
// calls to other Accounts (debit, resolve, settle, escrow outcome) and the queue
// flush; what may interleave there is spelled out at each one.
import { DurableObject } from "cloudflare:workers";
import { config } from "../worker/config";
import { entryHash } from "../worker/domain/audit-chain";
import type { MessageId } from "../worker/domain/message-id";
import {
  type Charge,
  FREE_REPLY,
  type PricingJson,
  type PricingPolicy,
  pricingFromJson,
  pricingToJson,
  type Quote,
  quote,
  type SenderRelation,
} from "../worker/domain/pricing";
import { type Bucket, type BucketLimit, check, spend, take } from "../worker/domain/rate-limit";
import {
  type AbuseLimits,
  type AbuseReason,
  admitFirstContact,
  freshReputation,
  type Reputation,
  withComplaint,
  withFailedPayment,
} from "../worker/domain/reputation";
import { notifyConfig } from "../worker/notify/config";
import { type AuditPage, auditPage, loadHead, type ModerationKind } from "./account/audit";
import {
  applyChainEvent,
  type ChainApplied,
  type ChainEvent,
  type ChainFail,
  type ChainPayment,
  checkChainDebit,
  failureNoticed,
  failureNotices,
  holdChainPayment,
  intentView,
  markAccepted,
  nextDeadline,
  openJobs,
  pastDeadline,
  releaseChainHold,
  sendUnsentJobs,
  signatureValid,
  unsentJobs,
} from "./account/chain";
import { freeReplyOpen, sentTo } from "./account/escrow";
import {
  archivedRow,
  archivedSeq,
  CHUNK_ROWS,
  commitChunk,
  HISTORY_KINDS,
  historyPage,
  ledgerTail,
  nextChunk,
  pruneArchivedIds,
} from "./account/history-archive";
import { hasUnflushed, OutboxFlush, recordStatusChange, type TotalsRecord } from "./account/outbox-flush";
import { readSenderLists, type SenderLists } from "./account/sender-lists";
import { relationAsSender, setAllowedBy } from "./account/sender-quote";
import { unreadCount } from "./account/unread";
import { migrate } from "./account-schema";

/** A hold not settled after this long makes the sender ask the recipient. */
export const HOLD_RESOLVE_AFTER_MS = 30_000;
/** How often an accepted chain payment past its deadline is checked against the indexer's progress. */
const EXPIRY_CHECK_MS = 60_000;
/** Retry delay for work that failed (queue flush, escrow notifications). */
const RETRY_MS = 5_000;
/** 9 rows × 10 columns stays under the 100 bound parameters a statement may have. */
const LEDGER_ROWS_PER_INSERT = 9;
const LEDGER_COLUMNS = 10;
/** Least time between two retention checks of an Account whose oldest message cannot move yet. */
const ARCHIVE_CHECK_MS = 3_600_000;
/** Longest a settle waits in memory for another commit to ride along with. */
const SETTLE_DELAY_MS = 250;

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

type Row = Record<string, SqlStorageValue>;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const big = (v: SqlStorageValue) => BigInt(v as string);

export class Account extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private s!: State;
  /** messageIds this Account is receiving right now (awaiting the sender's debit). */
  private readonly inFlight = new Set<string>();
  private readonly outboxFlush: OutboxFlush;
  /** Settles waiting for this Account's next commit (messageId → status). */
  private readonly pendingSettles = new Map<string, string>();
  private settleTimer: ReturnType<typeof setTimeout> | null = null;
  /** A commit accepted chain payments whose SettleJobs should go to the queue. */
  private jobsToSend = false;
  private sendingJobs: Promise<void> | null = null;
  private alarmAt: number | null = null;
  /** A retention sweep is running (account/history-archive.ts). */
  private archiving = false;
  /** Last pricing version handed out (milliseconds, strictly increasing while this instance lives). */
  private pricingVersion = 0;
  /** Test-only fault injection; empty in production. */
  readonly faults = new Set<Fault>();
  /** Lowest minPrice over the user's connected notification channels; null: none connected. */
  private notifyMin: bigint | null = null;
  /** Test-only: a retention window to use instead of INBOX_RETENTION_DAYS (ledger hashes cover created_at, so tests cannot age entries). */
  retentionOverrideMs: number | null = null;
  /** Test-only: rate limits to use instead of the configured ones (e.g. production values). */
  rateLimitOverride: { send: BucketLimit; receive: BucketLimit } | null = null;
  /** Test-only: a notice coalescing window to use instead of NOTIFY_COALESCE_SECONDS (tests open and close it at will). */
  notifyWindowOverrideMs: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.outboxFlush = new OutboxFlush({
      sql: this.sql,
      accountId: () => this.userId(),
      totals: () => this.totalsRecord(),
      send: async (batch) => {
        await this.env.INDEX.send(batch, { contentType: "json" });
      },
      wakeAt: (at) => this.ensureAlarm(at),
      notifyMinPrice: () => this.notifyMin,
      notifyWindowMs: () => this.notifyWindowOverrideMs ?? notifyConfig(this.env).coalesceMs,
    });
    ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql);
      this.s = this.load();
      const notify = ctx.storage.kv.get<string>("notify_min_price");
      this.notifyMin = notify === undefined ? null : BigInt(notify);
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // ── reads ────────────────────────────────────────────────────────────────

  async summary(): Promise<{ balance: string; held: string; pricing: PricingJson }> {
    return { balance: this.s.balance.toString(), held: this.s.held.toString(), pricing: pricingToJson(this.s.policy) };
  }

  /** Totals for conservation checks and ops. */
  async totals(): Promise<Record<"balance" | "held" | "fees" | "topups" | "deposits" | "withdrawals", string>> {
    const { balance, held, fees, topups, deposits, withdrawals } = this.s;
    return {
      balance: `${balance}`,
      held: `${held}`,
      fees: `${fees}`,
      topups: `${topups}`,
      deposits: `${deposits}`,
      withdrawals: `${withdrawals}`,
    };
  }

  /** The price this recipient asks of `senderId` right now. */
  async quoteFor(senderId: string | null): Promise<{ pricing: PricingJson; quote: Quote | null }> {
    const q = senderId
      ? quote(this.s.policy, this.lookupSender(senderId, null).relation, config(this.env).feeBps)
      : null;
    return { pricing: pricingToJson(this.s.policy), quote: q };
  }

  /** What this user would pay `recipientId` (given their published pricing), from this side. */
  async quoteAsSender(recipientId: string, pricing: PricingJson): Promise<Quote> {
    return quote(pricingFromJson(pricing), relationAsSender(this.sql, recipientId), config(this.env).feeBps);
  }

  async setAllowedBy(recipientId: string, discountBps: number | null): Promise<void> {
    setAllowedBy(this.sql, recipientId, discountBps);
  }

  /** Newest first; past the retention window the rows come from the R2 archive (account/history-archive.ts). */
  async inbox(cursor: number | null, limit: number): Promise<Page<InboxMessage> & { unread: number }> {
    const rows = await historyPage(this.sql, this.env.ARCHIVE, "inbox", cursor ?? Number.MAX_SAFE_INTEGER, limit);
    return { ...page(rows, limit, "seq", toInboxMessage), unread: unreadCount(this.sql) };
  }

  async inboxMessage(messageId: string): Promise<InboxMessage | null> {
    const row = await this.inboxRow(messageId);
    return row ? toInboxMessage(row) : null;
  }

  /** A received message, live or archived. */
  private async inboxRow(messageId: string): Promise<Row | null> {
    const live = this.sql.exec("SELECT * FROM inbox WHERE message_id = ?", messageId).toArray()[0];
    if (live) return live;
    const seq = archivedSeq(this.sql, messageId);
    if (seq === null) return null;
    const row = await archivedRow(this.sql, this.env.ARCHIVE, seq);
    // Never treat a message we know we received as unknown (a retry would be delivered twice).
    if (!row) throw new Error(`archived message ${seq} is missing from the archive`);
    return row;
  }

  /** Bodies of received messages, read by the notification consumer for channels with includeBody. */
  async messageBodies(messageIds: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const id of messageIds.slice(0, 100)) {
      const row = this.sql.exec("SELECT body FROM inbox WHERE message_id = ?", id).toArray()[0];
      if (row) out[id] = row.body as string;
    }
    return out;
  }

  async markRead(messageId: string): Promise<boolean> {
    const now = Date.now();
    const r = this.sql.exec(
      "UPDATE inbox SET read_at = COALESCE(read_at, ?) WHERE message_id = ? RETURNING seq",
      now,
      messageId,
    );
    // An archived message is old and immutable where it is; it counts as found.
    return r.toArray().length === 1 || archivedSeq(this.sql, messageId) !== null;
  }

  /** Newest first; past the retention window the rows come from the R2 archive. */
  async outbox(cursor: number | null, limit: number): Promise<Page<OutboxMessage>> {
    const rows = await historyPage(this.sql, this.env.ARCHIVE, "outbox", cursor ?? Number.MAX_SAFE_INTEGER, limit);
    return page(rows, limit, "seq", toOutboxMessage);
  }

  async ledger(cursor: number | null, limit: number): Promise<Page<LedgerEntryJson>> {
    // Fee accruals (the platform's share, kept here to avoid a global treasury)
    // change neither balance nor held, so they are not part of the user's ledger.
    const rows = await historyPage(this.sql, this.env.ARCHIVE, "ledger", cursor ?? Number.MAX_SAFE_INTEGER, limit, {
      where: "d_balance != '0' OR d_held != '0'",
      keep: (r) => r.d_balance !== "0" || r.d_held !== "0",
    });
    return page(rows, limit, "id", (r) => ({
      id: String(r.id),
      kind: r.kind as LedgerKind,
      amount: r.amount as string,
      balanceAfter: r.balance_after as string,
      ref: r.ref as string | null,
      createdAt: iso(r.created_at as number) as string,
    }));
  }

  // ── profile, pricing, lists ────────────────────────────────────────────────

  async setHandle(handle: string | null): Promise<void> {
    this.commit((tx) => {
      tx.s.handle = handle;
    });
  }

  /** Sets the pricing; `version` orders the public copy the Worker publishes (worker/profile-cache.ts). */
  async setPricing(p: PricingJson): Promise<{ pricing: PricingJson; version: number }> {
    this.commit((tx) => {
      tx.s.policy = pricingFromJson(p);
    });
    this.pricingVersion = Math.max(Date.now(), this.pricingVersion + 1);
    return { pricing: pricingToJson(this.s.policy), version: this.pricingVersion };
  }

  async setAllowlist(userId: string, discountBps: number): Promise<void> {
    this.sql.exec(
      "INSERT INTO allowlist (user_id, discount_bps, created_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET discount_bps = excluded.discount_bps",
      userId,
      discountBps,
      Date.now(),
    );
  }

  async removeAllowlist(userId: string): Promise<void> {
    this.sql.exec("DELETE FROM allowlist WHERE user_id = ?", userId);
  }

  async senderLists(): Promise<SenderLists> {
    return readSenderLists(this.sql);
  }

  /** Blocks or unblocks a sender; true if that changed anything. */
  async setBlocked(userId: string, blocked: boolean): Promise<boolean> {
    return this.commit((tx) => {
      const changed = blocked
        ? this.sql.exec("INSERT OR IGNORE INTO blocklist (user_id, created_at) VALUES (?, ?)", userId, Date.now())
        : this.sql.exec("DELETE FROM blocklist WHERE user_id = ?", userId);
      if (changed.rowsWritten > 0) tx.entry(blocked ? "block" : "unblock", 0n, {}, userId);
      return changed.rowsWritten > 0;
    });
  }

  // ── abuse controls (rules: worker/domain/reputation.ts) ─────────────────────

  /** "Report as spam": blocks the message's sender and records the report; answers the sender's id. */
  async report(messageId: string): Promise<string | null> {
    const row = this.sql.exec("SELECT sender_id FROM inbox WHERE message_id = ?", messageId).toArray()[0];
    if (!row) return null;
    const senderId = row.sender_id as string;
    this.commit((tx) => {
      tx.entry("report", 0n, {}, messageId);
      const added = this.sql.exec(
        "INSERT OR IGNORE INTO blocklist (user_id, created_at) VALUES (?, ?)",
        senderId,
        Date.now(),
      );
      if (added.rowsWritten > 0) tx.entry("block", 0n, {}, senderId);
    });
    return senderId;
  }

  /** On the sender: a recipient blocked or reported us. Counts once per recipient. */
  async complaint(recipientId: string, kind: "block" | "report"): Promise<void> {
    const seen = this.sql.exec("SELECT 1 FROM complainants WHERE user_id = ?", recipientId).toArray().length > 0;
    if (seen) return;
    this.commit((tx) => {
      this.sql.exec(
        "INSERT INTO complainants (user_id, kind, created_at) VALUES (?, ?, ?)",
        recipientId,
        kind,
        Date.now(),
      );
      tx.s.reputation = withComplaint(this.reputation(Date.now()));
    });
  }

  /** At sign-up: how many accounts came from the same IP / device in the last 24 h. */
  async registered(signupsFromIp: number, signupsFromDevice: number): Promise<void> {
    this.commit((tx) => {
      tx.s.reputation = { ...this.reputation(Date.now()), signupsFromIp, signupsFromDevice };
    });
  }

  /** Admin freeze / unfreeze: sends and withdrawals refused while frozen; reads keep working. */
  async setFrozen(frozen: boolean, reason: string): Promise<{ frozen: boolean; reason: string | null }> {
    this.commit((tx) => {
      tx.s.frozen = frozen ? reason : null;
      tx.entry(frozen ? "freeze" : "unfreeze", 0n, {}, reason);
    });
    return { frozen: this.s.frozen !== null, reason: this.s.frozen };
  }

  /** What ops sees about this account's standing. */
  async standing(): Promise<{ frozen: string | null; reputation: Reputation | null }> {
    return { frozen: this.s.frozen, reputation: this.s.reputation };
  }

  private reputation(now: number): Reputation {
    return this.s.reputation ?? freshReputation(now);
  }

  // ── audit ────────────────────────────────────────────────────────────────

  /** A page of this Account's hash-chained ledger and whether the whole chain verifies (admin). */
  async auditPage(cursor: number, limit: number, anchorSeq: number | null = null): Promise<AuditPage> {
    return auditPage(this.sql, this.env.ARCHIVE, this.userId(), cursor, limit, anchorSeq);
  }

  /** Records a moderation or admin event (no money moves) in this Account's chain. */
  async auditNote(kind: ModerationKind, ref: string): Promise<number> {
    return this.commit((tx) => tx.entry(kind, 0n, {}, ref));
  }

  /**
   * Notification rails (worker/notify/channels.ts keeps this in step with D1):
   * messages received at or above this price ride the next flush batch as
   * notify records; null turns notices off.
   */
  async setNotify(minPrice: string | null): Promise<void> {
    if (minPrice === null) this.ctx.storage.kv.delete("notify_min_price");
    else this.ctx.storage.kv.put("notify_min_price", minPrice);
    this.notifyMin = minPrice === null ? null : BigInt(minPrice);
  }

  // ── money in and out (simulated ledger) ─────────────────────────────────────

  async topup(amount: string, key: string | null, requestHash: string): Promise<IdempotentResult<object>> {
    const prior = this.replay(key, requestHash);
    if (prior) return prior;
    const a = BigInt(amount);
    return this.commit((tx) => {
      tx.s.topups += a;
      const entryId = tx.entry("topup", a, { balance: a }, key);
      return this.remember(key, requestHash, 200, { balance: `${tx.s.balance}`, entryId: String(entryId) });
    });
  }

  async withdraw(amount: string, to: string | null, key: string | null, requestHash: string) {
    const prior = this.replay(key, requestHash);
    if (prior) return prior;
    if (this.s.frozen !== null) return { ok: false, code: "account_frozen" } as const;
    const a = BigInt(amount);
    if (a > this.s.balance) {
      return { ok: false, code: "insufficient_balance", required: amount, balance: `${this.s.balance}` } as const;
    }
    const withdrawalId = `wd_${crypto.randomUUID()}`;
    return this.commit((tx) => {
      tx.s.withdrawals += a;
      tx.entry("withdraw", a, { balance: -a }, to ? `${withdrawalId}:${to}` : withdrawalId);
      // The simulated ledger pays nothing out; the status says so.
      return this.remember(key, requestHash, 200, { balance: `${tx.s.balance}`, withdrawalId, status: "simulated" });
    });
  }

  // ── the send path: receive (recipient) → debit (sender) → settle (sender) ──

  /** Called by the Worker on the recipient's Account. */
  async receive(req: SendRequest): Promise<ReceiveResult> {
    const known = this.lookupSender(req.senderId, req.messageId);
    // (A replay of an archived message awaits R2 here; it only reads and answers.)
    const existing = known.seen ? await this.inboxRow(req.messageId) : null;
    if (existing) {
      if (existing.request_hash !== req.requestHash || existing.sender_id !== req.senderId) {
        return { ok: false, code: "idempotency_conflict" };
      }
      return { ok: true, replayed: true, receipt: receiptOf(existing) };
    }
    if (req.expectHandle !== null && req.expectHandle !== this.s.handle) return { ok: false, code: "stale_recipient" };
    if (this.inFlight.has(req.messageId)) return { ok: false, code: "idempotency_in_progress" };
    if (known.tombstoned) return { ok: false, code: "message_aborted" };
    // The first reply to our escrowed message is free and not ours to refuse
    // (account/escrow.ts); the replier's Account confirms the claim in debit().
    const free = req.freeReply && req.inReplyTo !== null && sentTo(this.sql, req.inReplyTo, req.senderId);
    let q: Charge = FREE_REPLY;
    if (!free) {
      if (known.blocked) return { ok: false, code: "sender_blocked" };
      q = quote(this.s.policy, known.relation, config(this.env).feeBps);
      if (req.maxPrice !== null && q.price > BigInt(req.maxPrice)) {
        return { ok: false, code: "price_above_max", price: `${q.price}` };
      }
      // Capacity is checked now but spent only once the sender has paid, so
      // failed attempts (a broke sender, say) never use it up.
      const full = check(this.s.receiveBucket, this.limits().receive, Date.now());
      if (!full.ok) return { ok: false, code: "rate_limited", retryAfterSeconds: full.retryAfterSeconds };
    }
    if (req.chainRequired && !req.chain && q.price > 0n) {
      return { ok: false, code: "payment_intent_required", price: `${q.price}` };
    }
    // A free message has nothing to settle on chain (the vault refuses zero amounts).
    if (req.chain && q.price === 0n) req = { ...req, chain: undefined };

    const userId = this.userId();
    // On chain the vault pays the recipient directly; it cannot hold a price until a reply.
    const escrow = this.s.policy.settlement === "on_reply" && !free && !req.chain;
    const replyWindowMs = this.s.policy.replyWindowHours * 3_600_000;

    // While we await the sender, other requests to this Account run. inFlight
    // makes resolve() answer "pending" for this message instead of aborting it.
    this.inFlight.add(req.messageId);
    let debit: DebitResult;
    try {
      debit = await this.env.ACCOUNT.getByName(req.senderId).debit({
        messageId: req.messageId,
        recipientId: userId,
        recipientHandle: this.s.handle,
        price: `${q.price}`,
        fee: `${q.fee}`,
        body: req.body,
        requestHash: req.requestHash,
        inReplyTo: req.inReplyTo,
        chain: req.chain,
        freeReply: free,
        abuse: req.abuse,
      });
      if (this.faults.has("receive:crash_after_debit")) {
        // A crash here loses the in-memory inFlight set along with the instance.
        this.inFlight.delete(req.messageId);
        throw new Error("fault: receive:crash_after_debit");
      }
    } catch (err) {
      this.inFlight.delete(req.messageId);
      throw err;
    }
    if (!debit.ok) {
      this.inFlight.delete(req.messageId);
      return debit;
    }

    const now = Date.now();
    if (!free) this.s.receiveBucket = spend(this.s.receiveBucket, this.limits().receive, now);
    // Chain payments are `accepted` until the indexer sees their MessagePaid.
    const status = req.chain ? "accepted" : escrow ? "escrowed" : "delivered";
    // If this commit throws, the sender's hold is resolved by its alarm (we answer
    // "aborted"), so inFlight must not outlive it.
    try {
      this.commitReceived(
        req,
        q,
        debit.senderHandle,
        status,
        escrow ? now + replyWindowMs : null,
        !known.relation.hasSentBefore,
        now,
      );
    } finally {
      this.inFlight.delete(req.messageId);
    }
    if (escrow) this.ensureAlarm(now + replyWindowMs);
    return {
      ok: true,
      replayed: false,
      receipt: {
        messageId: req.messageId,
        price: `${q.price}`,
        fee: `${q.fee}`,
        total: `${q.total}`,
        status,
        createdAt: iso(now) as string,
      },
    };
  }

  /** The recipient's half of a send, in one transaction: the message, the money, the contact. */
  private commitReceived(
    req: SendRequest,
    q: Charge,
    senderHandle: string | null,
    status: "delivered" | "escrowed" | "accepted",
    escrowUntil: number | null,
    firstFromSender: boolean,
    now: number,
  ): void {
    this.commit((tx) => {
      this.sql.exec(
        `INSERT INTO inbox (message_id, sender_id, sender_handle, body, price, fee, status, request_hash, created_at,
           in_reply_to, escrow_until, escrow_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        req.messageId,
        req.senderId,
        senderHandle,
        req.body,
        `${q.price}`,
        `${q.fee}`,
        status,
        req.requestHash,
        now,
        req.inReplyTo,
        escrowUntil,
        escrowUntil === null ? null : "held",
      );
      if (this.faults.has("receive:commit_throws")) throw new Error("fault: receive:commit_throws");
      // An accepted chain payment is credited when its MessagePaid is indexed (account/chain.ts).
      if (status !== "accepted") {
        if (escrowUntil !== null) tx.entry("hold", q.price, { held: q.price }, req.messageId);
        else tx.entry("receive", q.price, { balance: q.price }, req.messageId);
        tx.entry("fee", q.fee, { fees: q.fee }, req.messageId);
      }
      if (firstFromSender) {
        this.sql.exec(
          "INSERT INTO contacts (user_id, received) VALUES (?, 1) ON CONFLICT (user_id) DO UPDATE SET received = 1",
          req.senderId,
        );
      }
      // (The new message reaches the index from the inbox table itself; see account/outbox-flush.ts.)
    });
  }

  /** Called by the recipient's Account on the sender's: hold price + fee. Idempotent on messageId. */
  async debit(d: DebitRequest): Promise<DebitResult> {
    if (this.faults.has("debit:throw_before_hold")) throw new Error("fault: debit:throw_before_hold");
    // One query: this message's hold if any, and whether we have written to the recipient before.
    const found = this.sql
      .exec(
        `SELECT o.message_id, o.request_hash, o.recipient_id, o.hold_state,
                (SELECT sent FROM contacts WHERE user_id = ?2) AS sent
         FROM (SELECT 1) LEFT JOIN outbox o ON o.message_id = ?1`,
        d.messageId,
        d.recipientId,
      )
      .one();
    const existing = found.message_id === null ? null : found;
    if (existing) {
      if (existing.request_hash !== d.requestHash || existing.recipient_id !== d.recipientId) {
        return { ok: false, code: "idempotency_conflict" };
      }
      if (existing.hold_state === "released") return { ok: false, code: "message_aborted" };
      return { ok: true, senderHandle: this.s.handle };
    }
    if (this.s.frozen !== null) return { ok: false, code: "account_frozen" };
    if (d.chain) {
      const refused = await this.checkChainPayment(d, d.chain);
      if (refused) return refused;
    }
    const price = BigInt(d.price);
    const fee = BigInt(d.fee);
    const total = price + fee;
    const now = Date.now();
    if (d.freeReply && (total !== 0n || !d.inReplyTo || !freeReplyOpen(this.sql, d.inReplyTo, d.recipientId, now))) {
      return { ok: false, code: "free_reply_unavailable" }; // the Worker sends it as an ordinary reply
    }
    // Every attempt counts against the sender, paid or not (so a broke sender
    // hammering a recipient is limited here, not at the recipient's capacity).
    // A free reply is exempt: there is one per escrowed message, each paid for.
    const limited = d.freeReply ? null : this.takeToken("sendBucket", this.limits().send);
    if (limited) return limited;
    if (total > this.s.balance) {
      // A failed payment counts against the sender's reputation (persisted with the next commit).
      if (d.abuse) this.s.reputation = withFailedPayment(this.reputation(now), now);
      return { ok: false, code: "insufficient_balance", required: `${total}`, balance: `${this.s.balance}` };
    }
    // Abuse controls apply to first contacts only (never to a free reply): nobody is
    // slowed writing to someone they wrote to before. Decided before any money moves.
    let reputation = this.s.reputation;
    if (d.abuse && !d.freeReply && found.sent !== 1) {
      const a = admitFirstContact(this.reputation(now), d.abuse, now);
      if (!a.ok) {
        this.s.reputation = a.reputation;
        return a.status === 403
          ? { ok: false, code: "sender_restricted", reason: a.reason }
          : { ok: false, code: "rate_limited", retryAfterSeconds: a.retryAfterSeconds, reason: a.reason };
      }
      reputation = a.reputation;
    }
    this.commit((tx) => {
      tx.s.reputation = reputation;
      this.sql.exec(
        `INSERT INTO outbox (message_id, recipient_id, recipient_handle, body, price, fee, status, request_hash,
           in_reply_to, hold_state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, 'held', ?, ?)`,
        d.messageId,
        d.recipientId,
        d.recipientHandle,
        d.body,
        d.price,
        d.fee,
        d.requestHash,
        d.inReplyTo,
        now,
        now,
      );
      tx.entry("hold", total, { balance: -total, held: total }, d.messageId);
      if (d.chain) holdChainPayment(this.sql, d.messageId, d.chain, total);
      if (found.sent !== 1) {
        this.sql.exec(
          "INSERT INTO contacts (user_id, sent) VALUES (?, 1) ON CONFLICT (user_id) DO UPDATE SET sent = 1",
          d.recipientId,
        );
      }
    });
    this.ensureAlarm(now + HOLD_RESOLVE_AFTER_MS);
    if (this.faults.has("debit:throw_after_hold")) throw new Error("fault: debit:throw_after_hold");
    return { ok: true, senderHandle: this.s.handle };
  }

  /**
   * The recipient committed the message: the hold becomes a payment. Idempotent.
   * Settles are group-committed: they wait in memory for this Account's next
   * write (usually the next debit) or at most SETTLE_DELAY_MS, because a storage
   * commit costs far more than the rows it writes. Losing them to an eviction is
   * safe: the hold stays open and the alarm resolves it with the recipient.
   */
  async settle(messageId: string, status: string): Promise<void> {
    if (this.faults.has("settle:throw")) throw new Error("fault: settle:throw");
    this.pendingSettles.set(messageId, status);
    this.settleTimer ??= setTimeout(() => {
      this.settleTimer = null;
      try {
        if (this.pendingSettles.size) this.commit(() => undefined);
      } catch (err) {
        // The holds stay open; the alarm resolves them with their recipients.
        console.error(`settle commit failed: ${(err as Error).message}`);
      }
    }, SETTLE_DELAY_MS);
  }

  /** Applies pending settles inside the current commit; true if a reply released an escrow. */
  private applySettles(tx: Tx, settles: [string, string][]): boolean {
    let released = false;
    const now = Date.now();
    for (const [messageId, status] of settles) {
      // A chain payment is not paid yet: it waits for its receipt, and its SettleJob goes to the queue.
      if (markAccepted(this.sql, messageId, now)) {
        this.jobsToSend = true;
        continue;
      }
      const row = this.sql
        .exec(
          `UPDATE outbox SET hold_state = 'settled', status = CASE status WHEN 'pending' THEN ? ELSE status END,
             updated_at = ? WHERE message_id = ? AND hold_state = 'held' RETURNING price, fee, in_reply_to, created_at`,
          status,
          now,
          messageId,
        )
        .toArray()[0];
      if (!row) continue; // already settled, or released by the alarm
      tx.entry("send", big(row.price), { held: -big(row.price) }, messageId);
      tx.entry("fee", big(row.fee), { held: -big(row.fee) }, messageId);
      // A delivered reply releases the escrowed payment of the message it answers,
      // if it was sent within that message's reply window.
      if (row.in_reply_to && this.releaseEscrow(tx, row.in_reply_to as string, row.created_at as number)) {
        released = true;
      }
    }
    return released;
  }

  /** The sender asks whether a held message arrived. Writes a tombstone when it did not. */
  async resolve(messageId: string): Promise<ResolveAnswer> {
    if (this.inFlight.has(messageId)) return { state: "pending" };
    const row = this.sql.exec("SELECT escrow_state FROM inbox WHERE message_id = ?", messageId).toArray()[0];
    // The status the send answered with; later escrow outcomes reach the sender by escrowOutcome().
    if (row) return { state: "delivered", status: row.escrow_state ? "escrowed" : "delivered" };
    if (archivedSeq(this.sql, messageId) !== null) return { state: "delivered", status: "delivered" };
    this.sql.exec("INSERT OR IGNORE INTO tombstones (message_id, created_at) VALUES (?, ?)", messageId, Date.now());
    return { state: "aborted" };
  }

  /** The recipient's verdict on an escrowed payment: refunded to us, or released to them. */
  async escrowOutcome(messageId: string, recipientId: string, outcome: "refunded" | "released"): Promise<boolean> {
    if (this.faults.has("escrow_outcome:throw")) throw new Error("fault: escrow_outcome:throw");
    const row = this.sql.exec("SELECT * FROM outbox WHERE message_id = ?", messageId).toArray()[0];
    if (!row || row.recipient_id !== recipientId) return false;
    if (row.status === "refunded" || row.status === "released") return true; // already applied
    this.commit((tx) => {
      this.sql.exec(
        "UPDATE outbox SET status = ?, updated_at = ? WHERE message_id = ?",
        outcome,
        Date.now(),
        messageId,
      );
      if (outcome === "refunded") tx.entry("refund", big(row.price), { balance: big(row.price) }, messageId);
    });
    return true;
  }

  // ── chain mode (rules in account/chain.ts) ──────────────────────────────────

  /**
   * What an intent needs from the payer's Account: the vault nonce the next
   * accepted payment must carry and what may be spent. `chainNonce` is the
   * vault's nonce as the Worker just read it; nothing is reserved, so an intent
   * that is never sent blocks nothing.
   */
  async chainIntent(chainNonce: string | null): Promise<{ nonce: string; available: string; pending: string }> {
    return intentView(this.sql, this.s.balance, chainNonce);
  }

  /** One indexed vault event (the indexer calls this; a replay is a no-op). */
  async chainApply(ev: ChainEvent): Promise<ChainApplied> {
    const r = this.commit((tx) => applyChainEvent(this.sql, tx, ev, Date.now()));
    if (r.resend) void this.sendSettleJobs();
    // Awaited so the indexer moves on once the recipient knows too (a failure is retried by the alarm).
    if (r.recipientId) await this.noticeFailedPayments();
    return r;
  }

  /** Accepted payments waiting for settlement, oldest nonce first (ops and tests). */
  async openSettleJobs(): Promise<unknown[]> {
    return openJobs(this.sql);
  }

  /** Checks a signed payment before anything is held. The signature check may await the RPC. */
  private async checkChainPayment(d: DebitRequest, c: ChainPayment): Promise<ChainFail | null> {
    const check = () => checkChainDebit(this.sql, c, d.messageId, d.body, BigInt(d.price));
    const early = check();
    if (early) return early;
    // Other requests may run while the signature is checked (a smart account's goes through the RPC)…
    if (!(await signatureValid(c))) return { ok: false, code: "invalid_signature" };
    // …so a second tab may have taken this nonce meanwhile: check again, with no await until the commit.
    return check();
  }

  /**
   * An accepted payment can never settle once the chain's time is past its
   * deadline (the vault refuses it). When the indexer's checkpoint block is
   * past the deadline, every event up to it is applied, so had it been paid we
   * would know. It fails as
   * `PaymentExpired`, without waiting for a skip the relayer may never send.
   */
  private async expireChainPayments(): Promise<void> {
    if (nextDeadline(this.sql) === null) return;
    // Other requests may run during this read; applyChainEvent re-checks each hold.
    const cp = await this.env.DB.prepare("SELECT MAX(block_time) AS t FROM chain_checkpoints").first<{
      t: number | null;
    }>();
    if (!cp?.t) return;
    for (const o of pastDeadline(this.sql, cp.t)) {
      this.commit((tx) =>
        applyChainEvent(
          this.sql,
          tx,
          { t: "skipped", ref: `expired:${o.messageId}`, messageId: o.messageId, nonce: "0", reason: "PaymentExpired" },
          Date.now(),
        ),
      );
    }
    await this.noticeFailedPayments();
  }

  /** Tells recipients that payments to them failed (their inbox shows payment_failed); the alarm retries. */
  private async noticeFailedPayments(): Promise<void> {
    for (const n of failureNotices(this.sql)) {
      try {
        await this.env.ACCOUNT.getByName(n.recipientId).chainApply({
          t: "failed_in",
          ref: `failed:${n.messageId}`,
          messageId: n.messageId,
          reason: n.reason,
        });
      } catch (err) {
        console.warn(`payment failure notice deferred: ${(err as Error).message}`);
        this.ensureAlarm(Date.now() + RETRY_MS);
        continue;
      }
      failureNoticed(this.sql, n.messageId);
    }
  }

  /** Hands SettleJobs to the `settle` queue (account/chain.ts); the alarm retries what fails. One run at a time. */
  private sendSettleJobs(): Promise<void> {
    // Cleared by `.finally`, after the promise is stored (see sendUnsentJobs).
    this.sendingJobs ??= sendUnsentJobs(this.sql, this.env.SETTLE)
      .then((ok) => {
        if (!ok) this.ensureAlarm(Date.now() + RETRY_MS);
      })
      .finally(() => {
        this.sendingJobs = null;
      });
    return this.sendingJobs;
  }

  // ── alarm: stale holds, escrow expiry and notices, queue flush retries ──────

  async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    await this.resolveStaleHolds(now);
    this.expireEscrows(now);
    await this.sendEscrowOutcomes();
    await this.sendSettleJobs();
    await this.expireChainPayments();
    await this.noticeFailedPayments();
    await this.flush();
    await this.archiveOldMessages();
    this.scheduleNextAlarm(Date.now());
  }

  /**
   * Moves inbox, outbox and ledger rows past the retention window to R2, a
   * chunk at a time (account/history-archive.ts), and prunes archived_ids past
   * the idempotency horizon. Answers how many rows moved.
   */
  async archiveOldMessages(): Promise<number> {
    const retention = this.retentionOverrideMs ?? config(this.env).inboxRetentionMs;
    if (!retention || this.archiving) return 0;
    this.archiving = true;
    let moved = 0;
    try {
      for (const kind of HISTORY_KINDS) {
        for (;;) {
          const chunk = nextChunk(this.sql, this.userId(), kind, Date.now() - retention);
          if (!chunk) break;
          // Other requests run during this await; a row changed meanwhile stays live (commitChunk).
          await this.env.ARCHIVE.put(chunk.key, JSON.stringify(chunk.rows), {
            httpMetadata: { contentType: "application/json" },
          });
          const n = commitChunk(this.sql, chunk);
          moved += n;
          if (n === 0 || chunk.rows.length < CHUNK_ROWS) break;
        }
      }
      pruneArchivedIds(this.sql, Date.now());
    } catch (err) {
      console.warn(`history archive failed, will retry: ${(err as Error).message}`);
    } finally {
      this.archiving = false;
    }
    return moved;
  }

  private async resolveStaleHolds(now: number): Promise<void> {
    const stale = this.sql
      .exec(
        "SELECT message_id, recipient_id FROM outbox WHERE hold_state = 'held' AND created_at <= ? ORDER BY created_at LIMIT 100",
        now - HOLD_RESOLVE_AFTER_MS,
      )
      .toArray();
    for (const h of stale) {
      let answer: ResolveAnswer;
      try {
        answer = await this.env.ACCOUNT.getByName(h.recipient_id as string).resolve(h.message_id as string);
      } catch (err) {
        console.warn(`resolve failed, will retry: ${(err as Error).message}`);
        continue;
      }
      // settle() and releaseHold() re-check hold_state: a settle may have landed during the await.
      if (answer.state === "delivered") {
        this.pendingSettles.set(h.message_id as string, answer.status);
        this.commit(() => undefined);
      } else if (answer.state === "aborted") this.releaseHold(h.message_id as string);
    }
  }

  /** The recipient never took the message: give the sender back price + fee. */
  private releaseHold(messageId: string): void {
    const row = this.sql.exec("SELECT * FROM outbox WHERE message_id = ?", messageId).toArray()[0];
    if (row?.hold_state !== "held") return;
    const total = big(row.price) + big(row.fee);
    this.commit((tx) => {
      this.sql.exec(
        "UPDATE outbox SET hold_state = 'released', status = 'aborted', updated_at = ? WHERE message_id = ?",
        Date.now(),
        messageId,
      );
      if (!releaseChainHold(this.sql, tx, row)) tx.entry("refund", total, { balance: total, held: -total }, messageId);
    });
  }

  /** Pays an escrow out to this recipient if the reply came within the window; true if it did. */
  private releaseEscrow(tx: Tx, messageId: string, replySentAt: number): boolean {
    const row = this.sql
      .exec("SELECT price, escrow_until FROM inbox WHERE message_id = ? AND escrow_state = 'held'", messageId)
      .toArray()[0];
    if (!row || replySentAt > (row.escrow_until as number)) return false;
    const price = big(row.price);
    this.sql.exec("UPDATE inbox SET escrow_state = 'releasing', status = 'released' WHERE message_id = ?", messageId);
    tx.entry("release", price, { held: -price, balance: price }, messageId);
    this.recordStatus(messageId, "released");
    return true;
  }

  /** Escrows past their window (and with no reply in flight) start refunding. */
  private expireEscrows(now: number): void {
    this.sql.exec(
      `UPDATE inbox SET escrow_state = 'refunding'
       WHERE escrow_state = 'held' AND escrow_until <= ?
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.in_reply_to = inbox.message_id AND o.hold_state = 'held')`,
      now,
    );
  }

  private async sendEscrowOutcomes(): Promise<void> {
    const rows = this.sql
      .exec(
        "SELECT message_id, sender_id, escrow_state FROM inbox WHERE escrow_state IN ('releasing', 'refunding') LIMIT 100",
      )
      .toArray();
    const userId = this.userId();
    for (const r of rows) {
      const outcome = r.escrow_state === "refunding" ? "refunded" : "released";
      let acked = false;
      try {
        acked = await this.env.ACCOUNT.getByName(r.sender_id as string).escrowOutcome(
          r.message_id as string,
          userId,
          outcome,
        );
      } catch (err) {
        console.warn(`escrow notice failed, will retry: ${(err as Error).message}`);
        continue;
      }
      if (!acked) continue;
      const current = this.sql
        .exec("SELECT price, escrow_state FROM inbox WHERE message_id = ?", r.message_id)
        .toArray()[0];
      if (!current || current.escrow_state !== r.escrow_state) continue;
      this.commit((tx) => {
        this.sql.exec("UPDATE inbox SET escrow_state = ? WHERE message_id = ?", outcome, r.message_id);
        if (outcome === "refunded") {
          this.sql.exec("UPDATE inbox SET status = 'refunded' WHERE message_id = ?", r.message_id);
          tx.entry("refund", big(current.price), { held: -big(current.price) }, r.message_id as string);
          this.recordStatus(r.message_id as string, "refunded");
        }
      });
    }
  }

  private scheduleNextAlarm(now: number): void {
    const next: number[] = [];
    const hold = this.sql
      .exec<{ t: number | null }>("SELECT MIN(created_at) AS t FROM outbox WHERE hold_state = 'held'")
      .one().t;
    if (hold !== null) next.push(Math.max(hold + HOLD_RESOLVE_AFTER_MS, now + RETRY_MS));
    const escrow = this.sql
      .exec<{ t: number | null }>("SELECT MIN(escrow_until) AS t FROM inbox WHERE escrow_state = 'held'")
      .one().t;
    if (escrow !== null) next.push(Math.max(escrow, now + 1));
    const pendingNotices = this.sql
      .exec("SELECT 1 FROM inbox WHERE escrow_state IN ('releasing', 'refunding') LIMIT 1")
      .toArray().length;
    const pendingEvents = hasUnflushed(this.sql);
    const unsent = unsentJobs(this.sql, 1).length || failureNotices(this.sql).length;
    const deadline = nextDeadline(this.sql);
    if (deadline !== null) next.push(Math.max(deadline * 1000 + EXPIRY_CHECK_MS, now + EXPIRY_CHECK_MS));
    if (pendingNotices || pendingEvents || unsent) next.push(now + RETRY_MS);
    // The oldest live history row reaching the retention window (checked at most hourly).
    const retention = config(this.env).inboxRetentionMs;
    const oldest = this.sql
      .exec<{ t: number | null }>(
        `SELECT MIN(t) AS t FROM (SELECT (SELECT created_at FROM inbox ORDER BY seq LIMIT 1) AS t
           UNION ALL SELECT MIN(updated_at) FROM outbox UNION ALL SELECT (SELECT created_at FROM ledger ORDER BY id LIMIT 1))`,
      )
      .one().t;
    if (retention && oldest !== null) next.push(Math.max(oldest + retention, now + ARCHIVE_CHECK_MS));
    if (next.length) this.ensureAlarm(Math.min(...next));
  }

  private ensureAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  // ── index queue: see account/outbox-flush.ts ─────────────────────────────────

  /** Sends every committed change to the index queue now (the alarm and tests call it). */
  flush(): Promise<void> {
    return this.outboxFlush.flush();
  }

  private totalsRecord(): TotalsRecord {
    const t = this.s;
    return {
      seq: t.lastLedgerId,
      balance: `${t.balance}`,
      held: `${t.held}`,
      fees: `${t.fees}`,
      topups: `${t.topups}`,
      deposits: `${t.deposits}`,
      withdrawals: `${t.withdrawals}`,
      auditHead: t.auditHead,
    };
  }

  // ── internals ──────────────────────────────────────────────────────────────

  private userId(): string {
    const name = this.ctx.id.name ?? this.s.userId;
    if (!name) throw new Error("Account has no name: reach it with getByName(userId)");
    return name;
  }

  /** What this recipient knows about a sender, in one query. */
  private lookupSender(senderId: string, messageId: string | null) {
    const r = this.sql
      .exec<{
        seen: number | null;
        tomb: number | null;
        blocked: number | null;
        received: number | null;
        sent: number | null;
        allow: number | null;
      }>(
        `SELECT COALESCE((SELECT 1 FROM inbox WHERE message_id = ?1),
                         (SELECT 1 FROM archived_ids WHERE message_id = ?1)) AS seen,
                (SELECT 1 FROM tombstones WHERE message_id = ?1) AS tomb,
                (SELECT 1 FROM blocklist WHERE user_id = ?2) AS blocked,
                (SELECT received FROM contacts WHERE user_id = ?2) AS received,
                (SELECT sent FROM contacts WHERE user_id = ?2) AS sent,
                (SELECT discount_bps FROM allowlist WHERE user_id = ?2) AS allow`,
        messageId,
        senderId,
      )
      .one();
    const relation: SenderRelation = {
      allowlistBps: r.allow,
      hasSentBefore: r.received === 1,
      recipientHasSent: r.sent === 1,
    };
    return { seen: r.seen === 1, tombstoned: r.tomb === 1, blocked: r.blocked === 1, relation };
  }

  private limits(): { send: BucketLimit; receive: BucketLimit } {
    const cfg = config(this.env);
    return this.rateLimitOverride ?? { send: cfg.sendRate, receive: cfg.receiveRate };
  }

  /** Takes a rate-limit token (persisted with the next commit), or says how long to wait. */
  private takeToken(
    which: "sendBucket" | "receiveBucket",
    limit: BucketLimit,
  ): Fail<"rate_limited", { retryAfterSeconds: number }> | null {
    const r = take(this.s[which], limit, Date.now());
    if (!r.ok) return { ok: false, code: "rate_limited", retryAfterSeconds: r.retryAfterSeconds };
    this.s[which] = r.bucket;
    return null;
  }

  /** A received message's status changed: the next flush batch carries it. Call inside the commit. */
  private recordStatus(messageId: string, status: string): void {
    const m = this.sql.exec("SELECT * FROM inbox WHERE message_id = ?", messageId).toArray()[0];
    if (!m) return;
    recordStatusChange(this.sql, {
      messageId,
      senderId: m.sender_id as string,
      recipientId: this.userId(),
      price: m.price as string,
      fee: m.fee as string,
      status,
      createdAt: m.created_at as number,
      updatedAt: Date.now(),
    });
  }

  /**
   * Runs `body` in one storage transaction against a draft of the state, writes
   * the account row, and only then makes the draft current — so a throw leaves
   * both storage and memory as they were.
   */
  private commit<T>(body: (tx: Tx) => T): T {
    const draft: State = { ...this.s };
    const rows: SqlStorageValue[] = [];
    const settles = [...this.pendingSettles];
    let released = false;
    const chained = config(this.env).auditChain;
    const result = this.ctx.storage.transactionSync(() => {
      const now = Date.now();
      const tx: Tx = {
        s: draft,
        entry: (kind, amount, delta, ref) => {
          draft.balance += delta.balance ?? 0n;
          draft.held += delta.held ?? 0n;
          draft.fees += delta.fees ?? 0n;
          if (draft.balance < 0n || draft.held < 0n) throw new Error(`ledger would go negative (${kind})`);
          const id = ++draft.lastLedgerId;
          const e = {
            id,
            kind,
            amount: `${amount}`,
            dBalance: `${delta.balance ?? 0n}`,
            dHeld: `${delta.held ?? 0n}`,
            dFees: `${delta.fees ?? 0n}`,
            balanceAfter: `${draft.balance}`,
            ref,
            createdAt: now,
          };
          // The audit chain: each entry's hash covers the one before (worker/domain/audit-chain.ts).
          const hash = chained ? entryHash(draft.auditHead, e) : null;
          if (hash) draft.auditHead = hash;
          rows.push(id, kind, e.amount, e.dBalance, e.dHeld, e.dFees, e.balanceAfter, ref, now, hash);
          return id;
        },
      };
      if (settles.length) released = this.applySettles(tx, settles);
      const out = body(tx);
      // This commit's ledger entries in as few statements as the bound-parameter
      // limit allows (Durable Object SQL takes at most 100 per statement).
      for (let i = 0; i < rows.length; i += LEDGER_ROWS_PER_INSERT * LEDGER_COLUMNS) {
        const chunk = rows.slice(i, i + LEDGER_ROWS_PER_INSERT * LEDGER_COLUMNS);
        this.sql.exec(
          `INSERT INTO ledger (id, kind, amount, d_balance, d_held, d_fees, balance_after, ref, created_at, hash) VALUES ${Array(
            chunk.length / LEDGER_COLUMNS,
          )
            .fill("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .join(", ")}`,
          ...chunk,
        );
      }
      this.save(draft);
      return out;
    });
    this.s = draft;
    for (const [id] of settles) this.pendingSettles.delete(id);
    if (this.jobsToSend) {
      this.jobsToSend = false;
      void this.sendSettleJobs();
    }
    if (released) this.ensureAlarm(Date.now()); // tell the original senders soon
    this.outboxFlush.schedule();
    return result;
  }

  /** The remembered answer for a repeated Idempotency-Key, or a conflict when the request differs. */
  private replay(key: string | null, requestHash: string): IdempotentResult<object> | null {
    if (!key) return null;
    const prior = this.sql.exec("SELECT * FROM idempotency WHERE key = ?", key).toArray()[0];
    if (!prior) return null;
    if (prior.request_hash !== requestHash) return { ok: false, code: "idempotency_conflict" };
    return { ok: true, status: prior.status as number, body: JSON.parse(prior.response as string), replayed: true };
  }

  /** Records a success under its Idempotency-Key; call inside the commit that made it. */
  private remember<T extends object>(key: string | null, requestHash: string, status: number, body: T) {
    if (key) {
      this.sql.exec(
        "INSERT INTO idempotency (key, request_hash, status, response, created_at) VALUES (?, ?, ?, ?, ?)",
        key,
        requestHash,
        status,
        JSON.stringify(body),
        Date.now(),
      );
    }
    return { ok: true as const, status, body, replayed: false };
  }

  private load(): State {
    const r = this.sql.exec("SELECT * FROM account WHERE id = 1").one();
    return {
      userId: (r.user_id as string | null) ?? this.ctx.id.name ?? "",
      handle: r.handle as string | null,
      balance: big(r.balance),
      held: big(r.held),
      fees: big(r.fees),
      topups: big(r.topups),
      deposits: big(r.deposits),
      withdrawals: big(r.withdrawals),
      policy: {
        defaultPrice: big(r.default_price),
        firstContactPrice: big(r.first_contact_price),
        returnDiscountBps: r.return_discount_bps as number,
        settlement: r.settlement as PricingPolicy["settlement"],
        replyWindowHours: r.reply_window_hours as number,
      },
      sendBucket: r.send_bucket ? JSON.parse(r.send_bucket as string) : null,
      receiveBucket: r.receive_bucket ? JSON.parse(r.receive_bucket as string) : null,
      // Archived entries keep their ids: new ones go on after the last, live or archived.
      lastLedgerId: Math.max(
        this.sql.exec<{ id: number }>("SELECT COALESCE(MAX(id), 0) AS id FROM ledger").one().id,
        ledgerTail(this.sql)?.id ?? 0,
      ),
      auditHead: loadHead(this.sql, (r.user_id as string | null) ?? this.ctx.id.name ?? ""),
      reputation: r.reputation ? JSON.parse(r.reputation as string) : null,
      frozen: r.frozen as string | null,
    };
  }

  private save(s: State): void {
    this.sql.exec(
      `UPDATE account SET user_id = ?, handle = ?, balance = ?, held = ?, fees = ?, topups = ?, deposits = ?,
         withdrawals = ?, default_price = ?, first_contact_price = ?, return_discount_bps = ?, settlement = ?,
         reply_window_hours = ?, send_bucket = ?, receive_bucket = ?, reputation = ?, frozen = ? WHERE id = 1`,
      s.userId || this.ctx.id.name || null,
      s.handle,
      `${s.balance}`,
      `${s.held}`,
      `${s.fees}`,
      `${s.topups}`,
      `${s.deposits}`,
      `${s.withdrawals}`,
      `${s.policy.defaultPrice}`,
      `${s.policy.firstContactPrice}`,
      s.policy.returnDiscountBps,
      s.policy.settlement,
      s.policy.replyWindowHours,
      s.sendBucket ? JSON.stringify(s.sendBucket) : null,
      s.receiveBucket ? JSON.stringify(s.receiveBucket) : null,
      s.reputation ? JSON.stringify(s.reputation) : null,
      s.frozen,
    );
  }
}

function page<T>(rows: Row[], limit: number, key: string, map: (r: Row) => T): Page<T> {
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map(map);
  return { items, nextCursor: more ? String(rows[limit - 1][key]) : null };
}

/** Inbox statuses of chain payments: a replayed send answers `accepted`, as the first answer did. */
const CHAIN_STATUSES = new Set(["accepted", "paid", "payment_failed"]);

function receiptOf(r: Row): SendReceipt {
  const price = big(r.price);
  const fee = big(r.fee);
  return {
    messageId: r.message_id as string,
    price: `${price}`,
    fee: `${fee}`,
    total: `${price + fee}`,
    status: r.escrow_state ? "escrowed" : CHAIN_STATUSES.has(r.status as string) ? "accepted" : "delivered",
    createdAt: iso(r.created_at as number) as string,
  };
}

function toInboxMessage(r: Row): InboxMessage {
  return {
    messageId: r.message_id as string,
    from: { id: r.sender_id as string, handle: r.sender_handle as string | null },
    body: r.body as string,
    price: r.price as string,
    status: r.status as string,
    createdAt: iso(r.created_at as number) as string,
    readAt: iso(r.read_at as number | null),
    txHash: r.tx_hash as string | null,
    inReplyTo: r.in_reply_to as string | null,
    replyBy: iso((r.escrow_until as number | null) ?? null),
  };
}

function toOutboxMessage(r: Row): OutboxMessage {
  return {
    messageId: r.message_id as string,
    to: { id: r.recipient_id as string, handle: r.recipient_handle as string | null },
    body: r.body as string,
    price: r.price as string,
    fee: r.fee as string,
    status: r.status as string,
    createdAt: iso(r.created_at as number) as string,
    inReplyTo: r.in_reply_to as string | null,
    txHash: (r.tx_hash as string | null) ?? null,
    failure: (r.failure as string | null) ?? null,
  };
}
