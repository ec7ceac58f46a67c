// The user's pages of inbox, outbox and ledger, newest first; past the
// retention window the rows come from the R2 archive (history-archive.ts).
// Also the single-message reads (a live or archived received message).
import { archivedRow, archivedSeq, historyPage } from "./history-archive";
import {
  type AccountCore,
  type InboxMessage,
  iso,
  type LedgerEntryJson,
  type LedgerKind,
  type OutboxMessage,
  type Page,
  type Row,
} from "./types";
import { unreadCount } from "./unread";

/** Newest first; past the retention window the rows come from the R2 archive (account/history-archive.ts). */
export async function inbox(
  account: AccountCore,
  cursor: number | null,
  limit: number,
): Promise<Page<InboxMessage> & { unread: number }> {
  const rows = await historyPage(account.sql, account.env.ARCHIVE, "inbox", cursor ?? Number.MAX_SAFE_INTEGER, limit);
  return { ...page(rows, limit, "seq", toInboxMessage), unread: unreadCount(account.sql) };
}

export async function inboxMessage(account: AccountCore, messageId: string): Promise<InboxMessage | null> {
  const row = await inboxRow(account.sql, account.env.ARCHIVE, messageId);
  return row ? toInboxMessage(row) : null;
}

/** A received message, live or archived. */
export async function inboxRow(sql: SqlStorage, archive: R2Bucket, messageId: string): Promise<Row | null> {
  const live = sql.exec("SELECT * FROM inbox WHERE message_id = ?", messageId).toArray()[0];
  if (live) return live;
  const seq = archivedSeq(sql, messageId);
  if (seq === null) return null;
  const row = await archivedRow(sql, archive, seq);
  // Never treat a message we know we received as unknown (a retry would be delivered twice).
  if (!row) throw new Error(`archived message ${seq} is missing from the archive`);
  return row;
}

/** Bodies of received messages, read by the notification consumer for channels with includeBody. */
export async function messageBodies(account: AccountCore, messageIds: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const id of messageIds.slice(0, 100)) {
    const row = account.sql.exec("SELECT body FROM inbox WHERE message_id = ?", id).toArray()[0];
    if (row) out[id] = row.body as string;
  }
  return out;
}

export async function markRead(account: AccountCore, messageId: string): Promise<boolean> {
  const now = Date.now();
  const r = account.sql.exec(
    "UPDATE inbox SET read_at = COALESCE(read_at, ?) WHERE message_id = ? RETURNING seq",
    now,
    messageId,
  );
  // An archived message is old and immutable where it is; it counts as found.
  return r.toArray().length === 1 || archivedSeq(account.sql, messageId) !== null;
}

/** Newest first; past the retention window the rows come from the R2 archive. */
export async function outbox(account: AccountCore, cursor: number | null, limit: number): Promise<Page<OutboxMessage>> {
  const rows = await historyPage(account.sql, account.env.ARCHIVE, "outbox", cursor ?? Number.MAX_SAFE_INTEGER, limit);
  return page(rows, limit, "seq", toOutboxMessage);
}

export async function ledger(
  account: AccountCore,
  cursor: number | null,
  limit: number,
): Promise<Page<LedgerEntryJson>> {
  // Fee accruals (the platform's share, kept here to avoid a global treasury)
  // change neither balance nor held, so they are not part of the user's ledger.
  const rows = await historyPage(account.sql, account.env.ARCHIVE, "ledger", cursor ?? Number.MAX_SAFE_INTEGER, limit, {
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

function page<T>(rows: Row[], limit: number, key: string, map: (r: Row) => T): Page<T> {
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map(map);
  return { items, nextCursor: more ? String(rows[limit - 1][key]) : null };
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
