// Account Durable Object: one per user (named by user id), the serialization
// point for that user's money and inbox. See docs/architecture.md "Send path".
//
// Every read-modify-write happens inside one `transactionSync` with no await in
// between, so a second request never sees half-done state. The only awaits are
// calls to other Accounts (debit, resolve, settle, escrow outcome) and the queue
// flush; what may interleave there is spelled out at each one.
//
// This file is the RPC surface and the plumbing (state load/save, `commit`,
// alarm dispatch); each concern's SQL and rules live beside it in account/:
// send.ts (receive → debit → settle), holds.ts (stale holds, escrow outcomes),
// history-pages.ts (inbox/outbox/ledger reads), moderation.ts, topup-withdraw.ts,
// chain.ts, chain-jobs.ts and chain-claims.ts, history-archive.ts (retention), outbox-flush.ts.
import { DurableObject } from "cloudflare:workers";
import { config } from "../worker/config";
import { entryHash } from "../worker/domain/audit-chain";
import { type PricingJson, pricingFromJson, pricingToJson, type Quote, quote } from "../worker/domain/pricing";
import type { BucketLimit } from "../worker/domain/rate-limit";
import type { Reputation } from "../worker/domain/reputation";
import { notifyConfig } from "../worker/notify/config";
import { errorSummary } from "../worker/observability/log";
import { nextAlarmAt } from "./account/alarm-schedule";
import { type AuditPage, auditPage, type ModerationKind } from "./account/audit";
import {
  applyChainEvent,
  type ChainApplied,
  type ChainEvent,
  intentView,
  openJobs,
  sendUnsentJobs,
} from "./account/chain";
import { expireChainPayments, noticeFailedPayments } from "./account/chain-jobs";
import * as history from "./account/history-pages";
import {
  answerResolve,
  applyEscrowOutcome,
  expireEscrows,
  resolveStaleHolds,
  sendEscrowOutcomes,
} from "./account/holds";
import * as moderation from "./account/moderation";
import { OutboxFlush, type TotalsRecord } from "./account/outbox-flush";
import { sweepRetention } from "./account/retention-sweep";
import { applySettles, debit, lookupSender, receive } from "./account/send";
import { readSenderLists, removeAllowlist, type SenderLists, setAllowlist } from "./account/sender-lists";
import { relationAsSender, setAllowedBy } from "./account/sender-quote";
import { loadState, saveState } from "./account/state-row";
import { topup, withdraw } from "./account/topup-withdraw";
import {
  type AccountCore,
  type DebitRequest,
  type DebitResult,
  type Fault,
  type IdempotentResult,
  type InboxMessage,
  type LedgerEntryJson,
  type OutboxMessage,
  type Page,
  RETRY_MS,
  type ReceiveResult,
  type ResolveAnswer,
  type SendRequest,
  type State,
  type Tx,
} from "./account/types";
import { migrate } from "./account-schema";

/** 9 rows × 10 columns stays under the 100 bound parameters a statement may have. */
const LEDGER_ROWS_PER_INSERT = 9;
const LEDGER_COLUMNS = 10;
/** Longest a settle waits in memory for another commit to ride along with. */
const SETTLE_DELAY_MS = 250;

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
  /** What the concern modules in account/ see of this Account (types.ts). */
  private readonly core: AccountCore;

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
    const account = this;
    this.core = {
      sql: this.sql,
      env,
      get s() {
        return account.s;
      },
      faults: this.faults,
      inFlight: this.inFlight,
      pendingSettles: this.pendingSettles,
      commit: (body) => this.commit(body),
      ensureAlarm: (at) => this.ensureAlarm(at),
      userId: () => this.userId(),
      limits: () => this.limits(),
      settleJobsDue: () => {
        this.jobsToSend = true;
      },
    };
    ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql);
      this.s = loadState(this.sql, this.ctx.id.name);
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
      ? quote(this.s.policy, lookupSender(this.sql, senderId, null).relation, config(this.env).feeBps)
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

  async inbox(cursor: number | null, limit: number): Promise<Page<InboxMessage> & { unread: number }> {
    return history.inbox(this.core, cursor, limit);
  }

  async inboxMessage(messageId: string): Promise<InboxMessage | null> {
    return history.inboxMessage(this.core, messageId);
  }

  async messageBodies(messageIds: string[]): Promise<Record<string, string>> {
    return history.messageBodies(this.core, messageIds);
  }

  async markRead(messageId: string): Promise<boolean> {
    return history.markRead(this.core, messageId);
  }

  async outbox(cursor: number | null, limit: number): Promise<Page<OutboxMessage>> {
    return history.outbox(this.core, cursor, limit);
  }

  async ledger(cursor: number | null, limit: number): Promise<Page<LedgerEntryJson>> {
    return history.ledger(this.core, cursor, limit);
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
    setAllowlist(this.sql, userId, discountBps);
  }

  async removeAllowlist(userId: string): Promise<void> {
    removeAllowlist(this.sql, userId);
  }

  async senderLists(): Promise<SenderLists> {
    return readSenderLists(this.sql);
  }

  async setBlocked(userId: string, blocked: boolean): Promise<boolean> {
    return moderation.setBlocked(this.core, userId, blocked);
  }

  // ── abuse controls (account/moderation.ts) ──────────────────────────────────

  async report(messageId: string): Promise<string | null> {
    return moderation.report(this.core, messageId);
  }

  async complaint(recipientId: string, kind: "block" | "report"): Promise<void> {
    return moderation.complaint(this.core, recipientId, kind);
  }

  async registered(signupsFromIp: number, signupsFromDevice: number): Promise<void> {
    return moderation.registered(this.core, signupsFromIp, signupsFromDevice);
  }

  async setFrozen(frozen: boolean, reason: string): Promise<{ frozen: boolean; reason: string | null }> {
    return moderation.setFrozen(this.core, frozen, reason);
  }

  /** What ops sees about this account's standing. */
  async standing(): Promise<{ frozen: string | null; reputation: Reputation | null }> {
    return { frozen: this.s.frozen, reputation: this.s.reputation };
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

  // ── money in and out (account/topup-withdraw.ts) ────────────────────────────

  async topup(amount: string, key: string | null, requestHash: string): Promise<IdempotentResult<object>> {
    return topup(this.core, amount, key, requestHash);
  }

  async withdraw(amount: string, to: string | null, key: string | null, requestHash: string) {
    return withdraw(this.core, amount, to, key, requestHash);
  }

  // ── the send path (account/send.ts): receive (recipient) → debit (sender) → settle (sender) ──

  /** Called by the Worker on the recipient's Account. */
  async receive(req: SendRequest): Promise<ReceiveResult> {
    return receive(this.core, req);
  }

  /** Called by the recipient's Account on the sender's: hold price + fee. Idempotent on messageId. */
  async debit(d: DebitRequest): Promise<DebitResult> {
    return debit(this.core, d);
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
        console.error(`settle commit failed: ${errorSummary(err)}`);
      }
    }, SETTLE_DELAY_MS);
  }

  /** The sender asks whether a held message arrived (account/holds.ts). */
  async resolve(messageId: string): Promise<ResolveAnswer> {
    return answerResolve(this.core, messageId);
  }

  /** The recipient's verdict on an escrowed payment: refunded to us, or released to them. */
  async escrowOutcome(messageId: string, recipientId: string, outcome: "refunded" | "released"): Promise<boolean> {
    return applyEscrowOutcome(this.core, messageId, recipientId, outcome);
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
    if (r.recipientId) await noticeFailedPayments(this.core);
    return r;
  }

  /** Accepted payments waiting for settlement, oldest nonce first (ops and tests). */
  async openSettleJobs(): Promise<unknown[]> {
    return openJobs(this.sql);
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
    await resolveStaleHolds(this.core, now);
    expireEscrows(this.sql, now);
    await sendEscrowOutcomes(this.core);
    await this.sendSettleJobs();
    await expireChainPayments(this.core);
    await noticeFailedPayments(this.core);
    await this.flush();
    await this.archiveOldMessages();
    const after = Date.now();
    const next = nextAlarmAt(this.sql, after, config(this.env).inboxRetentionMs, this.outboxFlush.checkAt(after));
    if (next !== null) this.ensureAlarm(next);
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
    try {
      return await sweepRetention(this.core, retention);
    } finally {
      this.archiving = false;
    }
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

  private limits(): { send: BucketLimit; receive: BucketLimit } {
    const cfg = config(this.env);
    return this.rateLimitOverride ?? { send: cfg.sendRate, receive: cfg.receiveRate };
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
      if (settles.length) released = applySettles(this.core, tx, settles);
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
      saveState(this.sql, draft, this.ctx.id.name);
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
}
