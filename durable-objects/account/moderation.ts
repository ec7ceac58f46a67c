// Blocking, spam reports, complaints and the sender reputation they feed
// (rules: worker/domain/reputation.ts), and the admin freeze. Each change is a
// zero-amount ledger entry, so moderation shows in the audit chain.
import { freshReputation, type Reputation, withComplaint } from "../../worker/domain/reputation";
import type { AccountCore } from "./types";

/** Blocks or unblocks a sender; true if that changed anything. */
export async function setBlocked(account: AccountCore, userId: string, blocked: boolean): Promise<boolean> {
  return account.commit((tx) => {
    const changed = blocked
      ? account.sql.exec("INSERT OR IGNORE INTO blocklist (user_id, created_at) VALUES (?, ?)", userId, Date.now())
      : account.sql.exec("DELETE FROM blocklist WHERE user_id = ?", userId);
    if (changed.rowsWritten > 0) tx.entry(blocked ? "block" : "unblock", 0n, {}, userId);
    return changed.rowsWritten > 0;
  });
}

/** "Report as spam": blocks the message's sender and records the report; answers the sender's id. */
export async function report(account: AccountCore, messageId: string): Promise<string | null> {
  const row = account.sql.exec("SELECT sender_id FROM inbox WHERE message_id = ?", messageId).toArray()[0];
  if (!row) return null;
  const senderId = row.sender_id as string;
  account.commit((tx) => {
    tx.entry("report", 0n, {}, messageId);
    const added = account.sql.exec(
      "INSERT OR IGNORE INTO blocklist (user_id, created_at) VALUES (?, ?)",
      senderId,
      Date.now(),
    );
    if (added.rowsWritten > 0) tx.entry("block", 0n, {}, senderId);
  });
  return senderId;
}

/** On the sender: a recipient blocked or reported us. Counts once per recipient. */
export async function complaint(account: AccountCore, recipientId: string, kind: "block" | "report"): Promise<void> {
  const seen = account.sql.exec("SELECT 1 FROM complainants WHERE user_id = ?", recipientId).toArray().length > 0;
  if (seen) return;
  account.commit((tx) => {
    account.sql.exec(
      "INSERT INTO complainants (user_id, kind, created_at) VALUES (?, ?, ?)",
      recipientId,
      kind,
      Date.now(),
    );
    tx.s.reputation = withComplaint(currentReputation(account, Date.now()));
  });
}

/** At sign-up: how many accounts came from the same IP / device in the last 24 h. */
export async function registered(
  account: AccountCore,
  signupsFromIp: number,
  signupsFromDevice: number,
): Promise<void> {
  account.commit((tx) => {
    tx.s.reputation = { ...currentReputation(account, Date.now()), signupsFromIp, signupsFromDevice };
  });
}

/** Admin freeze / unfreeze: sends and withdrawals refused while frozen; reads keep working. */
export async function setFrozen(
  account: AccountCore,
  frozen: boolean,
  reason: string,
): Promise<{ frozen: boolean; reason: string | null }> {
  account.commit((tx) => {
    tx.s.frozen = frozen ? reason : null;
    tx.entry(frozen ? "freeze" : "unfreeze", 0n, {}, reason);
  });
  return { frozen: account.s.frozen !== null, reason: account.s.frozen };
}

export function currentReputation(account: AccountCore, now: number): Reputation {
  return account.s.reputation ?? freshReputation(now);
}
