// Idempotency-Key answers for top-ups and withdrawals: the first success is
// remembered with the hash of its request, a retry with the same key gets the
// same answer, and a different request under a used key is a conflict.
import type { IdempotentResult } from "./types";

/** The remembered answer for a repeated Idempotency-Key, or a conflict when the request differs. */
export function replay(sql: SqlStorage, key: string | null, requestHash: string): IdempotentResult<object> | null {
  if (!key) return null;
  const prior = sql.exec("SELECT * FROM idempotency WHERE key = ?", key).toArray()[0];
  if (!prior) return null;
  if (prior.request_hash !== requestHash) return { ok: false, code: "idempotency_conflict" };
  return { ok: true, status: prior.status as number, body: JSON.parse(prior.response as string), replayed: true };
}

/** Records a success under its Idempotency-Key; call inside the commit that made it. */
export function remember<T extends object>(
  sql: SqlStorage,
  key: string | null,
  requestHash: string,
  status: number,
  body: T,
) {
  if (key) {
    sql.exec(
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
