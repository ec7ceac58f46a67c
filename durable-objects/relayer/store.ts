// The Relayer's SQLite state: payments waiting for a transaction (`jobs`), one
// row per relayer nonce with the batch's calldata fixed at creation (`txs`), and
// every signed broadcast of that nonce (`attempts`: the original and its fee
// bumps — same nonce, same calldata). Plain functions over SqlStorage; callers
// run the multi-statement ones inside transactionSync.
import type { Hex } from "viem";
import type { SettleJob } from "../../worker/chain/settle-job";

export type TxState = "pending" | "mined" | "reverted" | "superseded";

export type TxRow = {
  nonce: number;
  data: Hex;
  gas: string;
  state: TxState;
  job_count: number;
  created_at: number;
  mined_hash: Hex | null;
  block_number: number | null;
  gas_used: string | null;
};

export type AttemptRow = {
  hash: Hex;
  nonce: number;
  raw: Hex;
  max_fee: string;
  priority_fee: string;
  sent_at: number;
  broadcasts: number;
};

/**
 * Jobs that failed to settle this many times (reverted transactions) stop being
 * retried: they become `failed` until the payer's Account has been told
 * (`reported`), so the payment shows `payment_failed` and its hold is released.
 */
export const MAX_JOB_ATTEMPTS = 5;
/** The failure reason a given-up payment carries (the vault's reasons are its error names). */
export const SETTLEMENT_REVERTED = "SettlementReverted";
/** Finished transactions kept for the status view. */
const KEEP_FINISHED_TXS = 200;

export function migrate(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    tx_nonce INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    enqueued_at INTEGER NOT NULL
  )`);
  sql.exec("CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, id)");
  sql.exec("CREATE INDEX IF NOT EXISTS jobs_tx ON jobs (tx_nonce)");
  sql.exec(`CREATE TABLE IF NOT EXISTS txs (
    nonce INTEGER PRIMARY KEY,
    data TEXT NOT NULL,
    gas TEXT NOT NULL,
    state TEXT NOT NULL,
    job_count INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    mined_hash TEXT,
    block_number INTEGER,
    gas_used TEXT
  )`);
  sql.exec(`CREATE TABLE IF NOT EXISTS attempts (
    hash TEXT PRIMARY KEY,
    nonce INTEGER NOT NULL,
    raw TEXT NOT NULL,
    max_fee TEXT NOT NULL,
    priority_fee TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    broadcasts INTEGER NOT NULL
  )`);
  sql.exec("CREATE INDEX IF NOT EXISTS attempts_nonce ON attempts (nonce, sent_at)");
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
}

export function getMeta(sql: SqlStorage, key: string): string | null {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
  return row ? row.value : null;
}

export function setMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    key,
    value,
  );
}

/**
 * Adds jobs; returns how many were added. A job already queued or in flight is
 * ignored (a queue redelivery). One whose transaction was mined is taken again: the
 * Account re-sends a payment the vault skipped because it arrived before an earlier
 * nonce of the same payer; were it a plain redelivery of a paid one, the vault skips
 * it (InvalidNonce) and the indexer ignores a skip for a paid message.
 */
export function insertJobs(sql: SqlStorage, jobs: SettleJob[], now: number): number {
  let added = 0;
  for (const job of jobs) {
    const p = job.payment;
    const dedupe = `${p.payer}:${p.nonce}:${p.messageId}`.toLowerCase();
    if (sql.exec("SELECT 1 FROM jobs WHERE dedupe = ? AND state IN ('queued', 'sent')", dedupe).toArray().length) {
      continue;
    }
    sql.exec("DELETE FROM jobs WHERE dedupe = ?", dedupe); // a failed one starts over
    sql.exec(
      "INSERT INTO jobs (dedupe, body, state, enqueued_at) VALUES (?, ?, 'queued', ?)",
      dedupe,
      JSON.stringify(job),
      now,
    );
    added++;
  }
  return added;
}

/** The oldest queued jobs, at most `limit`. */
export function queuedJobs(sql: SqlStorage, limit: number): { id: number; job: SettleJob }[] {
  return sql
    .exec<{ id: number; body: string }>("SELECT id, body FROM jobs WHERE state = 'queued' ORDER BY id LIMIT ?", limit)
    .toArray()
    .map((r) => ({ id: r.id, job: JSON.parse(r.body) as SettleJob }));
}

/** Jobs given up on whose payer's Account has not been told yet, at most `limit`. */
export function failedJobs(sql: SqlStorage, limit: number): { id: number; job: SettleJob }[] {
  return sql
    .exec<{ id: number; body: string }>("SELECT id, body FROM jobs WHERE state = 'failed' ORDER BY id LIMIT ?", limit)
    .toArray()
    .map((r) => ({ id: r.id, job: JSON.parse(r.body) as SettleJob }));
}

/** The payer's Account knows the job failed (a later redelivery may queue it again). */
export function markReported(sql: SqlStorage, id: number): void {
  sql.exec("UPDATE jobs SET state = 'reported' WHERE id = ? AND state = 'failed'", id);
}

export function countJobs(sql: SqlStorage, state: "queued" | "sent" | "failed" | "reported"): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM jobs WHERE state = ?", state).one().n;
}

/** Records a new transaction for `nonce` carrying `jobIds`, and its first signed attempt. */
export function insertTx(
  sql: SqlStorage,
  tx: { nonce: number; data: Hex; gas: bigint; jobIds: number[] },
  attempt: { hash: Hex; raw: Hex; maxFee: bigint; priorityFee: bigint },
  now: number,
): void {
  sql.exec(
    "INSERT INTO txs (nonce, data, gas, state, job_count, created_at) VALUES (?, ?, ?, 'pending', ?, ?)",
    tx.nonce,
    tx.data,
    tx.gas.toString(),
    tx.jobIds.length,
    now,
  );
  for (const id of tx.jobIds) sql.exec("UPDATE jobs SET state = 'sent', tx_nonce = ? WHERE id = ?", tx.nonce, id);
  insertAttempt(sql, tx.nonce, attempt, now);
}

export function insertAttempt(
  sql: SqlStorage,
  nonce: number,
  a: { hash: Hex; raw: Hex; maxFee: bigint; priorityFee: bigint },
  now: number,
): void {
  sql.exec(
    "INSERT INTO attempts (hash, nonce, raw, max_fee, priority_fee, sent_at, broadcasts) VALUES (?, ?, ?, ?, ?, ?, 0)",
    a.hash,
    nonce,
    a.raw,
    a.maxFee.toString(),
    a.priorityFee.toString(),
    now,
  );
}

export function markBroadcast(sql: SqlStorage, hash: Hex, now: number): void {
  sql.exec("UPDATE attempts SET broadcasts = broadcasts + 1, sent_at = ? WHERE hash = ?", now, hash);
}

export function pendingTxs(sql: SqlStorage): TxRow[] {
  return sql.exec<TxRow>("SELECT * FROM txs WHERE state = 'pending' ORDER BY nonce").toArray() as TxRow[];
}

/** Attempts for `nonce`, newest (highest fee) first. */
export function attemptsOf(sql: SqlStorage, nonce: number): AttemptRow[] {
  return sql
    .exec<AttemptRow>("SELECT * FROM attempts WHERE nonce = ? ORDER BY sent_at DESC, rowid DESC", nonce)
    .toArray() as AttemptRow[];
}

/** The transaction was included: its jobs are done (the indexed events decide each payment's fate). */
export function markMined(
  sql: SqlStorage,
  nonce: number,
  r: { hash: Hex; blockNumber: number; gasUsed: bigint; success: boolean },
): void {
  sql.exec(
    "UPDATE txs SET state = ?, mined_hash = ?, block_number = ?, gas_used = ? WHERE nonce = ?",
    r.success ? "mined" : "reverted",
    r.hash,
    r.blockNumber,
    r.gasUsed.toString(),
    nonce,
  );
  sql.exec("DELETE FROM meta WHERE key = ?", `gone:${nonce}`);
  if (r.success) sql.exec("DELETE FROM jobs WHERE tx_nonce = ?", nonce);
  else requeue(sql, nonce, true);
  pruneFinished(sql);
}

/** The nonce was used by a transaction that is not ours: nothing of the batch happened, queue it again. */
export function markSuperseded(sql: SqlStorage, nonce: number): void {
  sql.exec("UPDATE txs SET state = 'superseded' WHERE nonce = ?", nonce);
  sql.exec("DELETE FROM meta WHERE key = ?", `gone:${nonce}`);
  requeue(sql, nonce, false);
  pruneFinished(sql);
}

function requeue(sql: SqlStorage, nonce: number, countAttempt: boolean): void {
  if (countAttempt) sql.exec("UPDATE jobs SET attempts = attempts + 1 WHERE tx_nonce = ?", nonce);
  sql.exec(
    "UPDATE jobs SET state = CASE WHEN attempts >= ? THEN 'failed' ELSE 'queued' END, tx_nonce = NULL WHERE tx_nonce = ?",
    MAX_JOB_ATTEMPTS,
    nonce,
  );
}

function pruneFinished(sql: SqlStorage): void {
  const cutoff = sql
    .exec<{ nonce: number }>(
      "SELECT nonce FROM txs WHERE state != 'pending' ORDER BY nonce DESC LIMIT 1 OFFSET ?",
      KEEP_FINISHED_TXS,
    )
    .toArray()[0];
  if (!cutoff) return;
  sql.exec(
    "DELETE FROM attempts WHERE nonce <= ? AND nonce NOT IN (SELECT nonce FROM txs WHERE state = 'pending')",
    cutoff.nonce,
  );
  sql.exec("DELETE FROM txs WHERE nonce <= ? AND state != 'pending'", cutoff.nonce);
}

export function recentTxs(sql: SqlStorage, limit: number): TxRow[] {
  return sql.exec<TxRow>("SELECT * FROM txs ORDER BY nonce DESC LIMIT ?", limit).toArray() as TxRow[];
}
