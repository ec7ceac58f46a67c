// Holds and escrows once the send is over: the sender's alarm asks the
// recipient about holds that were never settled (resolveStaleHolds → resolve)
// and gives the money back when the message never arrived; the recipient's
// alarm expires escrows and tells the original sender each outcome until it
// acknowledges (sendEscrowOutcomes → escrowOutcome). The escrow rules the send
// path checks live in escrow.ts.

import { errorSummary } from "../../worker/observability/log";
import { releaseChainHold } from "./chain";
import { archivedSeq } from "./history-archive";
import { recordStatusChange } from "./outbox-flush";
import { type AccountCore, big, type ResolveAnswer, type Tx } from "./types";

/** A hold not settled after this long makes the sender ask the recipient. */
export const HOLD_RESOLVE_AFTER_MS = 30_000;

/** The sender asks whether a held message arrived. Writes a tombstone when it did not. */
export async function answerResolve(account: AccountCore, messageId: string): Promise<ResolveAnswer> {
  if (account.inFlight.has(messageId)) return { state: "pending" };
  const row = account.sql.exec("SELECT escrow_state FROM inbox WHERE message_id = ?", messageId).toArray()[0];
  // The status the send answered with; later escrow outcomes reach the sender by escrowOutcome().
  if (row) return { state: "delivered", status: row.escrow_state ? "escrowed" : "delivered" };
  if (archivedSeq(account.sql, messageId) !== null) return { state: "delivered", status: "delivered" };
  account.sql.exec("INSERT OR IGNORE INTO tombstones (message_id, created_at) VALUES (?, ?)", messageId, Date.now());
  return { state: "aborted" };
}

/** The recipient's verdict on an escrowed payment: refunded to us, or released to them. */
export async function applyEscrowOutcome(
  account: AccountCore,
  messageId: string,
  recipientId: string,
  outcome: "refunded" | "released",
): Promise<boolean> {
  if (account.faults.has("escrow_outcome:throw")) throw new Error("fault: escrow_outcome:throw");
  const row = account.sql.exec("SELECT * FROM outbox WHERE message_id = ?", messageId).toArray()[0];
  if (!row || row.recipient_id !== recipientId) return false;
  if (row.status === "refunded" || row.status === "released") return true; // already applied
  account.commit((tx) => {
    account.sql.exec(
      "UPDATE outbox SET status = ?, updated_at = ? WHERE message_id = ?",
      outcome,
      Date.now(),
      messageId,
    );
    if (outcome === "refunded") tx.entry("refund", big(row.price), { balance: big(row.price) }, messageId);
  });
  return true;
}

export async function resolveStaleHolds(account: AccountCore, now: number): Promise<void> {
  const stale = account.sql
    .exec(
      "SELECT message_id, recipient_id FROM outbox WHERE hold_state = 'held' AND created_at <= ? ORDER BY created_at LIMIT 100",
      now - HOLD_RESOLVE_AFTER_MS,
    )
    .toArray();
  for (const h of stale) {
    let answer: ResolveAnswer;
    try {
      answer = await account.env.ACCOUNT.getByName(h.recipient_id as string).resolve(h.message_id as string);
    } catch (err) {
      console.warn(`resolve failed, will retry: ${errorSummary(err)}`);
      continue;
    }
    // settle() and releaseHold() re-check hold_state: a settle may have landed during the await.
    if (answer.state === "delivered") {
      account.pendingSettles.set(h.message_id as string, answer.status);
      account.commit(() => undefined);
    } else if (answer.state === "aborted") releaseHold(account, h.message_id as string);
  }
}

/** The recipient never took the message: give the sender back price + fee. */
export function releaseHold(account: AccountCore, messageId: string): void {
  const row = account.sql.exec("SELECT * FROM outbox WHERE message_id = ?", messageId).toArray()[0];
  if (row?.hold_state !== "held") return;
  const total = big(row.price) + big(row.fee);
  account.commit((tx) => {
    account.sql.exec(
      "UPDATE outbox SET hold_state = 'released', status = 'aborted', updated_at = ? WHERE message_id = ?",
      Date.now(),
      messageId,
    );
    if (!releaseChainHold(account.sql, tx, row)) tx.entry("refund", total, { balance: total, held: -total }, messageId);
  });
}

/** Pays an escrow out to this recipient if the reply came within the window; true if it did. */
export function releaseEscrow(account: AccountCore, tx: Tx, messageId: string, replySentAt: number): boolean {
  const row = account.sql
    .exec("SELECT price, escrow_until FROM inbox WHERE message_id = ? AND escrow_state = 'held'", messageId)
    .toArray()[0];
  if (!row || replySentAt > (row.escrow_until as number)) return false;
  const price = big(row.price);
  account.sql.exec("UPDATE inbox SET escrow_state = 'releasing', status = 'released' WHERE message_id = ?", messageId);
  tx.entry("release", price, { held: -price, balance: price }, messageId);
  recordStatus(account, messageId, "released");
  return true;
}

/** Escrows past their window (and with no reply in flight) start refunding. */
export function expireEscrows(sql: SqlStorage, now: number): void {
  sql.exec(
    `UPDATE inbox SET escrow_state = 'refunding'
     WHERE escrow_state = 'held' AND escrow_until <= ?
       AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.in_reply_to = inbox.message_id AND o.hold_state = 'held')`,
    now,
  );
}

export async function sendEscrowOutcomes(account: AccountCore): Promise<void> {
  const rows = account.sql
    .exec(
      "SELECT message_id, sender_id, escrow_state FROM inbox WHERE escrow_state IN ('releasing', 'refunding') LIMIT 100",
    )
    .toArray();
  const userId = account.userId();
  for (const r of rows) {
    const outcome = r.escrow_state === "refunding" ? "refunded" : "released";
    let acked = false;
    try {
      acked = await account.env.ACCOUNT.getByName(r.sender_id as string).escrowOutcome(
        r.message_id as string,
        userId,
        outcome,
      );
    } catch (err) {
      console.warn(`escrow notice failed, will retry: ${errorSummary(err)}`);
      continue;
    }
    if (!acked) continue;
    const current = account.sql
      .exec("SELECT price, escrow_state FROM inbox WHERE message_id = ?", r.message_id)
      .toArray()[0];
    if (!current || current.escrow_state !== r.escrow_state) continue;
    account.commit((tx) => {
      account.sql.exec("UPDATE inbox SET escrow_state = ? WHERE message_id = ?", outcome, r.message_id);
      if (outcome === "refunded") {
        account.sql.exec("UPDATE inbox SET status = 'refunded' WHERE message_id = ?", r.message_id);
        tx.entry("refund", big(current.price), { held: -big(current.price) }, r.message_id as string);
        recordStatus(account, r.message_id as string, "refunded");
      }
    });
  }
}

/** A received message's status changed: the next flush batch carries it. Call inside the commit. */
export function recordStatus(account: AccountCore, messageId: string, status: string): void {
  const m = account.sql.exec("SELECT * FROM inbox WHERE message_id = ?", messageId).toArray()[0];
  if (!m) return;
  recordStatusChange(account.sql, {
    messageId,
    senderId: m.sender_id as string,
    recipientId: account.userId(),
    price: m.price as string,
    fee: m.fee as string,
    status,
    createdAt: m.created_at as number,
    updatedAt: Date.now(),
  });
}
