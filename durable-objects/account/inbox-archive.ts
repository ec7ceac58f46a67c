// Inbox retention: messages older than the retention window leave the Account's
// storage for R2, in chunks of up to CHUNK_ROWS rows (whole rows, bodies
// included), and are read back from there when the user scrolls that far. The
// inbox API does not change: pages are still `seq < cursor ORDER BY seq DESC`,
// merged from the live table and the archive.
//
// What stays in the Account per archived message is its id and seq
// (`archived_ids`, ~100 bytes) so a retried send is still recognised and a
// direct link still resolves — see docs/scaling.md for what that bounds.
//
// Only settled rows move: an escrow still held or being notified, or a status
// that may still change (chain mode's `accepted`), stays live. Rows move only
// after the index flush has them (seq <= flushed_inbox_seq).

/** Rows per archived chunk (one R2 object). */
export const CHUNK_ROWS = 200;
const FINAL_STATUSES = "('delivered', 'released', 'refunded', 'paid')";

export type InboxRow = Record<string, SqlStorageValue>;

export interface Chunk {
  id: number;
  key: string;
  rows: InboxRow[];
}

/** The oldest rows due to move (up to CHUNK_ROWS, in seq order) as the next chunk, or null. */
export function nextChunk(sql: SqlStorage, accountId: string, cutoff: number): Chunk | null {
  const rows = dueRows(sql, cutoff);
  if (rows.length === 0) return null;
  const id = sql.exec<{ n: number }>("SELECT COALESCE(MAX(id), 0) + 1 AS n FROM inbox_archive").one().n;
  const pad = (n: number) => String(n).padStart(12, "0");
  const key = `accounts/${accountId}/inbox/${pad(id)}-${pad(rows[0].seq as number)}-${pad(rows.at(-1)?.seq as number)}.json`;
  return { id, key, rows };
}

function dueRows(sql: SqlStorage, cutoff: number): InboxRow[] {
  return sql
    .exec(
      `SELECT * FROM inbox
       WHERE created_at < ? AND seq <= (SELECT flushed_inbox_seq FROM account WHERE id = 1)
         AND status IN ${FINAL_STATUSES} AND (escrow_state IS NULL OR escrow_state IN ('released', 'refunded'))
       ORDER BY seq LIMIT ?`,
      cutoff,
      CHUNK_ROWS,
    )
    .toArray();
}

/**
 * After the chunk is safely in R2: index it and drop its rows, in one
 * synchronous step. A row that changed meanwhile (it was read) stays live and
 * moves with a later chunk; `archived_ids.chunk` says which copy is current.
 */
export function commitChunk(sql: SqlStorage, chunk: Chunk): number {
  const { rows } = chunk;
  sql.exec(
    "INSERT INTO inbox_archive (id, first_seq, last_seq, key, count) VALUES (?, ?, ?, ?, ?)",
    chunk.id,
    rows[0].seq,
    rows[rows.length - 1].seq,
    chunk.key,
    rows.length,
  );
  let moved = 0;
  for (const r of rows) {
    const gone = sql
      .exec("DELETE FROM inbox WHERE seq = ? AND read_at IS ? RETURNING message_id", r.seq, r.read_at)
      .toArray();
    if (gone.length) {
      sql.exec(
        "INSERT OR REPLACE INTO archived_ids (message_id, seq, chunk) VALUES (?, ?, ?)",
        r.message_id,
        r.seq,
        chunk.id,
      );
      moved++;
    }
  }
  return moved;
}

/** The archived seq of a received message, or null. */
export function archivedSeq(sql: SqlStorage, messageId: string): number | null {
  const r = sql.exec<{ seq: number }>("SELECT seq FROM archived_ids WHERE message_id = ?", messageId).toArray()[0];
  return r ? r.seq : null;
}

/** Which chunk holds the current copy of an archived seq. */
function chunkOf(sql: SqlStorage, seq: number): number | null {
  const r = sql.exec<{ chunk: number }>("SELECT chunk FROM archived_ids WHERE seq = ?", seq).toArray()[0];
  return r ? r.chunk : null;
}

async function readChunk(bucket: R2Bucket, key: string): Promise<InboxRow[]> {
  const obj = await bucket.get(key);
  if (!obj) throw new Error(`archived inbox chunk missing: ${key}`);
  return obj.json<InboxRow[]>();
}

/** One archived row by its seq, or null. */
export async function archivedRow(sql: SqlStorage, bucket: R2Bucket, seq: number): Promise<InboxRow | null> {
  const chunk = sql
    .exec<{ key: string }>(
      "SELECT key FROM inbox_archive WHERE id = (SELECT chunk FROM archived_ids WHERE seq = ?)",
      seq,
    )
    .toArray()[0];
  if (!chunk) return null;
  return (await readChunk(bucket, chunk.key)).find((r) => r.seq === seq) ?? null;
}

/**
 * One inbox page (`seq < cursor`, newest first, `limit + 1` rows so the caller
 * can tell there is more) merged from the live rows and the archive. R2 is
 * read only when archived seqs can fall on this page.
 */
export async function inboxPage(sql: SqlStorage, bucket: R2Bucket, cursor: number, limit: number): Promise<InboxRow[]> {
  const live = sql.exec("SELECT * FROM inbox WHERE seq < ? ORDER BY seq DESC LIMIT ?", cursor, limit + 1).toArray();
  // Once the page is full of live rows, nothing archived below its lowest seq matters.
  const floor = live.length === limit + 1 ? (live[limit].seq as number) : 0;
  const chunks = sql
    .exec<{ id: number; key: string; last: number }>(
      "SELECT id, key, last_seq AS last FROM inbox_archive WHERE first_seq < ? AND last_seq > ? ORDER BY last_seq DESC",
      cursor,
      floor,
    )
    .toArray();
  const page = [...live];
  const bySeqDesc = (a: InboxRow, b: InboxRow) => (b.seq as number) - (a.seq as number);
  for (const c of chunks) {
    // Chunks come highest range first: once the page's last row is above this
    // chunk's range, no remaining chunk can place a row on it.
    if (page.length >= limit + 1 && (page[limit].seq as number) > c.last) break;
    // Awaits: other requests may run meanwhile; archived chunks are immutable.
    for (const r of await readChunk(bucket, c.key)) {
      const seq = r.seq as number;
      if (seq < cursor && seq > floor && chunkOf(sql, seq) === c.id) page.push(r);
    }
    page.sort(bySeqDesc);
  }
  return page.slice(0, limit + 1);
}
