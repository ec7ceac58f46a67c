// Retention: the Account's history tables — inbox, outbox and ledger — keep only
// rows younger than the retention window; older rows leave for R2 in chunks of
// up to CHUNK_ROWS whole rows (bodies and hashes included) and are read back
// from there when the user scrolls that far. The APIs do not change: pages are
// still `key < cursor ORDER BY key DESC`, merged from the live table and the
// archive.
//
// What may move (per table, SPECS below):
// - inbox: settled rows the index flush (and the notice coalescing behind it)
//   already has (seq <= flushed_inbox_seq and notified_inbox_seq);
//   an escrow still held or being notified, or a status that may still change
//   (chain mode's `accepted`), stays live.
// - outbox: rows whose hold is over (settled or released) with a final status
//   and no failure notice pending, unchanged for the whole window (`updated_at`),
//   so an escrow outcome or a chain event that could still touch the row finds
//   it live. Open holds — what the send path, escrow and chain mode need — never
//   move.
// - ledger: a PREFIX of the entries (ids 1..K) that the index flush already
//   has (id <= flushed_ledger_id, so the R2 batch archive holds them too). The
//   last archived id and its hash stay in the account row
//   (`ledger_archived_id`, `ledger_archived_hash`): new entries keep their ids
//   and chain on from there. Balances and totals live in the account row and
//   never depended on the rows.
//
// A row that changed while its chunk was being written (an inbox row read, an
// outbox row updated) stays live and moves with a later chunk; readers prefer
// the live row, then the copy in the newest chunk.
//
// `archived_ids` (received message id → archived seq) lets a retried send be
// recognised and a direct link resolve. It is bounded: an entry is pruned once
// its message is ARCHIVED_ID_HORIZON_MS old, so an Account holds at most that
// many days of ids (≈ 100 B each; see docs/scaling.md). Past the horizon a
// message is still in inbox pages and the export, but its direct link answers
// 404 and its Idempotency-Key is no longer recognised (docs/api-notes.md).

/** Rows per archived chunk (one R2 object). */
export const CHUNK_ROWS = 200;
/** How long a received message's id stays recognised after it was sent (idempotency horizon). */
export const ARCHIVED_ID_HORIZON_MS = 90 * 86_400_000;
/** archived_ids rows pruned per sweep at most (keeps one alarm run short). */
const PRUNE_BATCH = 5_000;

export type HistoryKind = "inbox" | "outbox" | "ledger";
export const HISTORY_KINDS: HistoryKind[] = ["inbox", "outbox", "ledger"];

export type Row = Record<string, SqlStorageValue>;

interface Spec {
  /** The key pages are ordered by. */
  key: "seq" | "id";
  /** The chunk index table (id, first_seq, last_seq, key, count). */
  index: string;
  /** Rows due to move, older than ?1 (the cutoff). */
  due: string;
}

const SPECS: Record<HistoryKind, Spec> = {
  inbox: {
    key: "seq",
    index: "inbox_archive",
    due: `created_at < ?1 AND seq <= (SELECT MIN(flushed_inbox_seq, notified_inbox_seq) FROM account WHERE id = 1)
      AND status IN ('delivered', 'released', 'refunded', 'paid')
      AND (escrow_state IS NULL OR escrow_state IN ('released', 'refunded'))`,
  },
  outbox: {
    key: "seq",
    index: "outbox_archive",
    due: `updated_at < ?1 AND hold_state IN ('settled', 'released')
      AND status NOT IN ('pending', 'escrowed', 'accepted') AND notify_failed = 0`,
  },
  ledger: {
    key: "id",
    index: "ledger_archive",
    // Stops at the first entry that is not due, so what moves is always a prefix.
    due: `id <= (SELECT flushed_ledger_id FROM account WHERE id = 1)
      AND id < COALESCE((SELECT MIN(id) FROM ledger WHERE created_at >= ?1), 9007199254740991)`,
  },
};

export interface Chunk {
  kind: HistoryKind;
  id: number;
  key: string;
  rows: Row[];
}

/** The oldest rows of `kind` due to move (up to CHUNK_ROWS, in key order) as the next chunk, or null. */
export function nextChunk(sql: SqlStorage, accountId: string, kind: HistoryKind, cutoff: number): Chunk | null {
  const s = SPECS[kind];
  const rows = sql
    .exec(`SELECT * FROM ${kind} WHERE ${s.due} ORDER BY ${s.key} LIMIT ?2`, cutoff, CHUNK_ROWS)
    .toArray();
  if (rows.length === 0) return null;
  const id = sql.exec<{ n: number }>(`SELECT COALESCE(MAX(id), 0) + 1 AS n FROM ${s.index}`).one().n;
  const pad = (n: SqlStorageValue) => String(n).padStart(12, "0");
  const key = `accounts/${accountId}/${kind}/${pad(id)}-${pad(rows[0][s.key])}-${pad(rows.at(-1)?.[s.key] ?? 0)}.json`;
  return { kind, id, key, rows };
}

/**
 * After the chunk is safely in R2: index it and drop its rows, in one
 * synchronous step. Answers how many rows left the live table.
 */
export function commitChunk(sql: SqlStorage, chunk: Chunk): number {
  const { rows, kind } = chunk;
  const s = SPECS[kind];
  sql.exec(
    `INSERT INTO ${s.index} (id, first_seq, last_seq, key, count) VALUES (?, ?, ?, ?, ?)`,
    chunk.id,
    rows[0][s.key],
    rows[rows.length - 1][s.key],
    chunk.key,
    rows.length,
  );
  let moved = 0;
  for (const r of rows) {
    if (kind === "inbox") {
      // Read meanwhile: stays live (its read mark is newer than the archived copy).
      const gone = gone1(sql, "DELETE FROM inbox WHERE seq = ? AND read_at IS ? RETURNING 1", r.seq, r.read_at);
      if (gone) {
        sql.exec(
          "INSERT OR REPLACE INTO archived_ids (message_id, seq, chunk, created_at) VALUES (?, ?, ?, ?)",
          r.message_id,
          r.seq,
          chunk.id,
          r.created_at,
        );
        moved++;
      }
    } else if (kind === "outbox") {
      moved += gone1(sql, "DELETE FROM outbox WHERE seq = ? AND updated_at = ? RETURNING 1", r.seq, r.updated_at);
    } else {
      moved += gone1(sql, "DELETE FROM ledger WHERE id = ? RETURNING 1", r.id); // entries never change
    }
  }
  if (kind === "ledger") {
    const last = rows[rows.length - 1];
    sql.exec("UPDATE account SET ledger_archived_id = ?, ledger_archived_hash = ? WHERE id = 1", last.id, last.hash);
  }
  return moved;
}

/** Drops archived_ids entries of messages older than the horizon (a bounded batch); answers how many. */
export function pruneArchivedIds(sql: SqlStorage, now: number): number {
  return sql
    .exec(
      `DELETE FROM archived_ids WHERE message_id IN
         (SELECT message_id FROM archived_ids WHERE created_at < ? LIMIT ?) RETURNING 1`,
      now - ARCHIVED_ID_HORIZON_MS,
      PRUNE_BATCH,
    )
    .toArray().length;
}

/** 1 if the statement (a DELETE … RETURNING 1 of one row) removed its row, else 0. */
function gone1(sql: SqlStorage, query: string, ...args: SqlStorageValue[]): number {
  return sql.exec(query, ...args).toArray().length;
}

/** The last archived ledger entry (the chain goes on from its hash), or null when none moved. */
export function ledgerTail(sql: SqlStorage): { id: number; hash: string | null } | null {
  const r = sql
    .exec<{ id: number; hash: string | null }>(
      "SELECT ledger_archived_id AS id, ledger_archived_hash AS hash FROM account WHERE id = 1",
    )
    .one();
  return r.id > 0 ? r : null;
}

/** The archived seq of a received message, or null. */
export function archivedSeq(sql: SqlStorage, messageId: string): number | null {
  const r = sql.exec<{ seq: number }>("SELECT seq FROM archived_ids WHERE message_id = ?", messageId).toArray()[0];
  return r ? r.seq : null;
}

async function readChunk(bucket: R2Bucket, key: string): Promise<Row[]> {
  const obj = await bucket.get(key);
  if (!obj) throw new Error(`archived chunk missing: ${key}`);
  return obj.json<Row[]>();
}

/** One archived inbox row by its seq, or null. */
export async function archivedRow(sql: SqlStorage, bucket: R2Bucket, seq: number): Promise<Row | null> {
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
 * One page of `kind` (`key < cursor`, newest first, `limit + 1` rows so the
 * caller can tell there is more) merged from the live rows and the archive.
 * `where` (SQL on the live table) and `keep` (the same test on archived rows)
 * filter the page. R2 is read only when archived keys can fall on this page.
 */
export async function historyPage(
  sql: SqlStorage,
  bucket: R2Bucket,
  kind: HistoryKind,
  cursor: number,
  limit: number,
  filter: { where: string; keep: (r: Row) => boolean } = { where: "1", keep: () => true },
): Promise<Row[]> {
  const s = SPECS[kind];
  const k = (r: Row) => r[s.key] as number;
  const live = sql
    .exec(
      `SELECT * FROM ${kind} WHERE ${s.key} < ? AND (${filter.where}) ORDER BY ${s.key} DESC LIMIT ?`,
      cursor,
      limit + 1,
    )
    .toArray();
  // Once the page is full of live rows, nothing archived below its lowest key matters.
  const floor = live.length === limit + 1 ? k(live[limit]) : 0;
  const chunks = sql
    .exec<{ id: number; key: string; last: number }>(
      `SELECT id, key, last_seq AS last FROM ${s.index} WHERE first_seq < ? AND last_seq > ? ORDER BY last_seq DESC`,
      cursor,
      floor,
    )
    .toArray();
  // key → the copy to show: a live row always, else the one in the newest chunk.
  const best = new Map<number, { row: Row; chunk: number }>(live.map((r) => [k(r), { row: r, chunk: Infinity }]));
  const sorted = () => [...best.values()].map((b) => b.row).sort((a, b) => k(b) - k(a));
  let page = sorted();
  for (const c of chunks) {
    // Chunks come highest range first: once the page's last row is above this
    // chunk's range, no remaining chunk can place a row on it.
    if (page.length >= limit + 1 && k(page[limit]) > c.last) break;
    // Awaits: other requests may run meanwhile; archived chunks are immutable.
    for (const r of await readChunk(bucket, c.key)) {
      const key = k(r);
      if (key >= cursor || key <= floor || !filter.keep(r)) continue;
      const had = best.get(key);
      if (!had || had.chunk < c.id) best.set(key, { row: r, chunk: c.id });
    }
    page = sorted();
  }
  return page.slice(0, limit + 1);
}

/**
 * Archived ledger entries, oldest first, from only the chunks that hold an
 * entry past `afterId` (not yet verified), in `range` (inclusive ids), or
 * `anchor` (admin: one page of the audit chain; account/audit.ts).
 */
export async function archivedLedger(
  sql: SqlStorage,
  bucket: R2Bucket,
  afterId: number,
  range: [number, number],
  anchor: number | null,
): Promise<Row[]> {
  const out: Row[] = [];
  const chunks = sql
    .exec<{ key: string }>(
      `SELECT key FROM ledger_archive
       WHERE last_seq > ?1 OR (last_seq >= ?2 AND first_seq <= ?3) OR (first_seq <= ?4 AND last_seq >= ?4)
       ORDER BY first_seq`,
      afterId,
      range[0],
      range[1],
      anchor ?? -1,
    )
    .toArray();
  for (const c of chunks) out.push(...(await readChunk(bucket, c.key)));
  return out;
}
