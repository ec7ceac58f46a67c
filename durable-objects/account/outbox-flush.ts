// The Account's transactional outbox to the `index` queue, flushed in batches.
//
// A batch is FROZEN before it is sent: one synchronous step reads everything
// committed past the cursors, stores the batch (with its sequence number) in
// `flush_batches`, and advances the cursors. Sending may then fail, be retried
// by the alarm, or be redelivered by the queue — it is always the same bytes
// under the same key, so the consumer archives each batch in R2 exactly once
// (worker/queues/index-consumer.ts) and keeps the newest totals in D1.
//
// Adding to the batch (notification records, the audit head…): add a field to
// `FlushBatch`, fill it in `freezeBatch` from this Account's own tables (inside
// the same synchronous step), and read it in the consumer. Nothing here may
// await: freezing must be atomic with the cursor move.
import { type NotifyItem, notifyItems } from "../../worker/domain/delivery-job";
import { errorSummary } from "../../worker/observability/log";
import { type LedgerRecord, ledgerRecord } from "./ledger-row";

export type { LedgerRecord };

/** Ledger rows, new messages and status changes per batch (each section at most this many). */
export const RECORDS_PER_BATCH = 100;
/** How long committed changes wait to go to the queue together (queue sends cost more than anything else a send did). */
const FLUSH_DELAY_MS = 1_000;
/**
 * A busy Account's timer flushes at most this often: each batch is a queue
 * message, an R2 object and a D1 upsert, so a steady sender's changes ride
 * together in a few large batches instead of one small batch a second. The
 * first change after a quiet spell still goes out after FLUSH_DELAY_MS.
 */
export const FLUSH_INTERVAL_MS = 5_000;
/** If the object is evicted before its flush timer fires, the alarm flushes. */
const FLUSH_BACKSTOP_MS = 60_000;
/** After a failed queue send. */
const RETRY_MS = 5_000;

/** A received message (no body: bodies stay in the Account and its inbox archive), or a later status change. */
export interface MessageRecord {
  messageId: string;
  senderId: string;
  recipientId: string;
  price: string;
  fee: string;
  status: string;
  createdAt: number;
  updatedAt: number;
}

/** The Account's running totals as of ledger entry `seq` (the D1 row keeps the newest). */
export interface TotalsRecord {
  seq: number;
  balance: string;
  held: string;
  fees: string;
  topups: string;
  deposits: string;
  withdrawals: string;
  /** The audit chain's head: the hash of ledger entry `seq` (the Cron checkpoints every Account's head). */
  auditHead?: string;
}

/** What one queue message carries; archived in R2 as-is. */
export interface FlushBatch {
  v: 1;
  accountId: string;
  /** 1, 2, 3… per Account, assigned when frozen: with accountId, the batch's identity. */
  seq: number;
  frozenAt: number;
  ledger: LedgerRecord[];
  messages: MessageRecord[];
  totals: TotalsRecord;
  /**
   * New messages the recipient wants a notice for (notification rails): the
   * index consumer hands them to the `deliveries` queue as one notify job per
   * batch. A burst is coalesced: messages wait until the oldest of them is
   * `notifyWindowMs` old, then all go in one batch (one digest per channel).
   * Absent when none are due.
   */
  notify?: NotifyItem[];
}

/** R2 key of a batch: by account, then sequence and time, so a prefix lists one Account's history in order. */
export function archiveKey(b: Pick<FlushBatch, "accountId" | "seq" | "frozenAt">): string {
  return `accounts/${b.accountId}/batches/${String(b.seq).padStart(12, "0")}-${b.frozenAt}.json`;
}

export interface FlushDeps {
  sql: SqlStorage;
  accountId(): string;
  /** The Account's current totals (frozen into the batch). */
  totals(): TotalsRecord;
  send(batch: FlushBatch): Promise<void>;
  /** Lowest minPrice over the user's connected notification channels; null: no notices. */
  notifyMinPrice(): bigint | null;
  /** The coalescing window for notices (NOTIFY_COALESCE_SECONDS). */
  notifyWindowMs(): number;
  /** Make sure the Account's alarm fires by `at` (the backstop and retries). */
  wakeAt(at: number): void;
}

/**
 * Batches the Account's commits: the first commit after a flush starts a timer,
 * and everything committed before it fires goes out together. Concurrent
 * flushes share one run; the alarm is the backstop if the object is evicted.
 */
export class OutboxFlush {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Something was committed since the last batch was frozen. */
  private dirty = false;
  /** When this instance last froze a batch (0: not yet). */
  private lastFrozenAt = 0;

  constructor(private readonly deps: FlushDeps) {}

  /** After every commit. */
  schedule(): void {
    this.dirty = true;
    if (this.timer !== null) return;
    const now = Date.now();
    this.deps.wakeAt(now + FLUSH_BACKSTOP_MS);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.flush();
      },
      Math.max(FLUSH_DELAY_MS, this.lastFrozenAt + FLUSH_INTERVAL_MS - now),
    );
  }

  /**
   * When the alarm should next look at unflushed changes: with a flush timer
   * armed or a flush running, only at the backstop (an alarm every few seconds
   * under steady load would re-run every check the alarm makes, for nothing).
   */
  checkAt(now: number): number {
    return now + (this.timer !== null || this.running ? FLUSH_BACKSTOP_MS : RETRY_MS);
  }

  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.drain();
        } while (this.again);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async drain(): Promise<void> {
    const { sql } = this.deps;
    const notify = () => ({ min: this.deps.notifyMinPrice(), windowMs: this.deps.notifyWindowMs() });
    for (;;) {
      // A batch frozen earlier but never handed over goes first, unchanged.
      const unsent = oldestUnsent(sql);
      if (!unsent) this.dirty = false;
      const batch = unsent ?? freezeBatch(sql, this.deps.accountId(), this.deps.totals(), Date.now(), notify());
      if (batch && !unsent) this.lastFrozenAt = batch.frozenAt;
      if (!batch) {
        // Notices still inside their coalescing window: the alarm flushes them when it closes.
        const due = notifyDueAt(sql, notify());
        if (due !== null) this.deps.wakeAt(due);
        return;
      }
      // Other requests run during this await; they only add rows past the cursors.
      try {
        await this.deps.send(batch);
      } catch (err) {
        console.warn(`index flush failed, will retry: ${errorSummary(err)}`);
        this.deps.wakeAt(Date.now() + RETRY_MS);
        return;
      }
      markSent(sql, batch.seq);
      // A new batch that took everything there was, with nothing committed
      // since and no notices waiting: looking again would only read empty
      // tables (five queries per flush).
      if (!unsent && !this.dirty && !full(batch) && this.deps.notifyMinPrice() === null) return;
    }
  }
}

/** A section of the batch hit its limit, so more may be waiting. */
const full = (b: FlushBatch) =>
  b.ledger.length >= RECORDS_PER_BATCH ||
  b.messages.length >= RECORDS_PER_BATCH ||
  (b.notify?.length ?? 0) >= RECORDS_PER_BATCH;

/**
 * Freezes what is committed past the cursors into the next batch and stores it.
 * Call with no await around it (it must be atomic with the commit it follows).
 * Returns null when there is nothing new.
 */
export function freezeBatch(
  sql: SqlStorage,
  accountId: string,
  totals: TotalsRecord,
  now: number,
  notify: NotifyWindow = { min: null, windowMs: 0 },
): FlushBatch | null {
  // Ledger entries and new messages are read straight from their tables (no
  // per-send copies); the cursors say how far earlier batches have them.
  // `events` holds only later changes (a message's status after an escrow settles).
  const cursor = sql
    .exec<{ l: number; m: number; b: number; n: number }>(
      "SELECT flushed_ledger_id AS l, flushed_inbox_seq AS m, flush_seq AS b, notified_inbox_seq AS n FROM account WHERE id = 1",
    )
    .one();
  const ledger = sql
    .exec("SELECT * FROM ledger WHERE id > ? ORDER BY id LIMIT ?", cursor.l, RECORDS_PER_BATCH)
    .toArray();
  const received = sql
    .exec(
      "SELECT seq, message_id, sender_id, sender_handle, price, fee, status, created_at FROM inbox WHERE seq > ? ORDER BY seq LIMIT ?",
      cursor.m,
      RECORDS_PER_BATCH,
    )
    .toArray();
  const changes = sql
    .exec<{ id: number; body: string }>("SELECT id, body FROM events ORDER BY id LIMIT ?", RECORDS_PER_BATCH)
    .toArray();
  const inboxCursor = (received.at(-1)?.seq as number | undefined) ?? cursor.m;
  const due = dueNotices(sql, cursor.n, inboxCursor, notify, now);
  if (ledger.length === 0 && received.length === 0 && changes.length === 0 && due.items.length === 0) {
    if (due.cursor !== cursor.n) sql.exec("UPDATE account SET notified_inbox_seq = ? WHERE id = 1", due.cursor);
    return null;
  }

  const batch: FlushBatch = {
    v: 1,
    accountId,
    seq: cursor.b + 1,
    frozenAt: now,
    ledger: ledger.map(ledgerRecord),
    messages: [
      ...received.map(
        (m): MessageRecord => ({
          messageId: m.message_id as string,
          senderId: m.sender_id as string,
          recipientId: accountId,
          price: m.price as string,
          fee: m.fee as string,
          status: m.status as string,
          createdAt: m.created_at as number,
          updatedAt: m.created_at as number,
        }),
      ),
      ...changes.map((r) => JSON.parse(r.body) as MessageRecord),
    ],
    totals,
  };
  if (due.items.length) batch.notify = due.items;
  sql.exec("INSERT INTO flush_batches (seq, body) VALUES (?, ?)", batch.seq, JSON.stringify(batch));
  if (changes.length) sql.exec("DELETE FROM events WHERE id <= ?", changes[changes.length - 1].id);
  sql.exec(
    "UPDATE account SET flushed_ledger_id = ?, flushed_inbox_seq = ?, flush_seq = ?, notified_inbox_seq = ? WHERE id = 1",
    ledger.at(-1)?.id ?? cursor.l,
    inboxCursor,
    batch.seq,
    due.cursor,
  );
  return batch;
}

/** Who gets notices and how long a burst is gathered before its digest goes out. */
export interface NotifyWindow {
  min: bigint | null;
  windowMs: number;
}

/**
 * The notices a batch frozen now carries, and how far that moves the notify
 * cursor. Messages wait (past the index cursor, which never waits) until the
 * oldest not yet notified is `windowMs` old; then everything received so far
 * goes out as one digest. With no channel connected the cursor just follows
 * the inbox, so connecting one later does not notify old messages.
 */
function dueNotices(
  sql: SqlStorage,
  notified: number,
  upTo: number,
  notify: NotifyWindow,
  now: number,
): { items: NotifyItem[]; cursor: number } {
  if (notify.min === null) return { items: [], cursor: Math.max(notified, upTo) };
  const pending = sql
    .exec(
      "SELECT seq, message_id, sender_id, sender_handle, price, status, created_at FROM inbox WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
      notified,
      upTo,
      RECORDS_PER_BATCH,
    )
    .toArray();
  if (pending.length === 0) return { items: [], cursor: notified };
  const full = pending.length === RECORDS_PER_BATCH;
  if (!full && (pending[0].created_at as number) + notify.windowMs > now) return { items: [], cursor: notified };
  const items = notifyItems(
    pending.map((m) => ({
      messageId: m.message_id as string,
      senderId: m.sender_id as string,
      senderHandle: m.sender_handle as string | null,
      price: m.price as string,
      status: m.status as string,
      createdAt: m.created_at as number,
    })),
    notify.min,
  );
  return { items, cursor: pending.at(-1)?.seq as number };
}

/** When the oldest message still waiting for its notice is due (its window closes), or null. */
export function notifyDueAt(sql: SqlStorage, notify: NotifyWindow): number | null {
  if (notify.min === null) return null;
  const row = sql
    .exec<{ t: number }>(
      `SELECT created_at AS t FROM inbox WHERE seq > (SELECT notified_inbox_seq FROM account WHERE id = 1)
         AND seq <= (SELECT flushed_inbox_seq FROM account WHERE id = 1) ORDER BY seq LIMIT 1`,
    )
    .toArray()[0];
  return row ? row.t + notify.windowMs : null;
}

/** The oldest frozen batch not yet handed to the queue (left by a failed send or an eviction). */
export function oldestUnsent(sql: SqlStorage): FlushBatch | null {
  const row = sql.exec<{ body: string }>("SELECT body FROM flush_batches ORDER BY seq LIMIT 1").toArray()[0];
  return row ? (JSON.parse(row.body) as FlushBatch) : null;
}

/** The queue has the batch: forget it. */
export function markSent(sql: SqlStorage, seq: number): void {
  sql.exec("DELETE FROM flush_batches WHERE seq = ?", seq);
}

/** Whether anything is committed but not yet in a sent batch (for the alarm backstop). */
export function hasUnflushed(sql: SqlStorage): boolean {
  return (
    sql
      .exec(
        `SELECT EXISTS (SELECT 1 FROM flush_batches) OR EXISTS (SELECT 1 FROM events)
           OR EXISTS (SELECT 1 FROM ledger WHERE id > (SELECT flushed_ledger_id FROM account WHERE id = 1))
           OR EXISTS (SELECT 1 FROM inbox WHERE seq > (SELECT flushed_inbox_seq FROM account WHERE id = 1)) AS n`,
      )
      .one().n === 1
  );
}

/** Records a message's later status change for the next batch (inside the commit that made it). */
export function recordStatusChange(sql: SqlStorage, m: MessageRecord): void {
  sql.exec("INSERT INTO events (body) VALUES (?)", JSON.stringify(m));
}
