// What an Account keeps only to recognise a retry or a replay is pruned past a
// horizon, in bounded batches by the alarm's retention sweep (retention-sweep.ts),
// so an Account's own storage stays bounded however long it lives (issue #13).
// Each horizon is far past the last moment a retry can still arrive:
//
// - `idempotency` (top-up and withdrawal Idempotency-Keys): 90 days, the same
//   horizon as a send's key (archived_ids, history-archive.ts): past it the same
//   key is a new request (docs/api-notes.md).
// - `tombstones` (messages this recipient told the sender's resolve() were never
//   received, so a late or retried receive is refused instead of delivered
//   unpaid): 90 days, the send's idempotency horizon again. The sender's own hold
//   was released minutes after the send and its outbox row (which refuses a
//   retried debit) moves to the archive after the retention window; past 90 days
//   a retried send with that key is a new message, exactly as for a delivered one.
// - `chain_applied` (vault events applied, by `txHash:logIndex`): the indexer
//   applies events block by block and only past CONFIRMATIONS, and rewinds at most
//   2 × CONFIRMATIONS + 16 blocks on a reorg, but an ops reindex may read the vault
//   again from any block. So the rows are pruned after 30 days and the Account
//   keeps a FLOOR instead: the highest block among the pruned events. Every
//   event of this Account at or below it was applied (the indexer delivers in
//   chain order, and the floor is a month deep), so an indexed event at or below
//   the floor is a replay and is skipped. Refs that are not vault logs
//   (`expired:`, `failed:`, `unclaimed:`, retried within minutes) carry no block
//   and are pruned by age alone (a claim is also known by its position in
//   chain_claims, kept: one row per claimed wallet, chain-claims.ts); vault-log
//   rows written before v13 have no block either and stay (their count stops growing at v13).
import { ARCHIVED_ID_HORIZON_MS } from "./history-archive";

export const IDEMPOTENCY_HORIZON_MS = ARCHIVED_ID_HORIZON_MS;
export const TOMBSTONE_HORIZON_MS = ARCHIVED_ID_HORIZON_MS;
export const CHAIN_APPLIED_HORIZON_MS = 30 * 86_400_000;
/** Rows pruned per table per sweep at most (keeps one alarm run short; the next sweep goes on). */
const PRUNE_BATCH = 5_000;

export const STORAGE_BOUNDS_MIGRATION = `
  CREATE INDEX idempotency_created ON idempotency (created_at);
  CREATE INDEX tombstones_created ON tombstones (created_at);
  ALTER TABLE chain_applied ADD COLUMN block INTEGER;
  CREATE INDEX chain_applied_at ON chain_applied (applied_at);
  ALTER TABLE chain ADD COLUMN applied_floor INTEGER NOT NULL DEFAULT -1;
`;

/** Vault-log rows carry their block; the Account's own refs (and rows from before v13) are told apart by their ref. */
const PRUNABLE_APPLIED = "applied_at < ?1 AND (block IS NOT NULL OR ref NOT LIKE '0x%')";

/** Prunes each guard table past its horizon (one bounded batch each); answers how many rows went, per table. */
export function pruneRetryGuards(sql: SqlStorage, now: number) {
  const idempotency = sql
    .exec(
      "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency WHERE created_at < ? LIMIT ?) RETURNING 1",
      now - IDEMPOTENCY_HORIZON_MS,
      PRUNE_BATCH,
    )
    .toArray().length;
  const tombstones = sql
    .exec(
      "DELETE FROM tombstones WHERE message_id IN (SELECT message_id FROM tombstones WHERE created_at < ? LIMIT ?) RETURNING 1",
      now - TOMBSTONE_HORIZON_MS,
      PRUNE_BATCH,
    )
    .toArray().length;
  // The floor rises first, over exactly the rows deleted next (same order, same
  // limit): should the delete not happen, a higher floor is still true.
  const batch = `SELECT ref, block FROM chain_applied WHERE ${PRUNABLE_APPLIED} ORDER BY applied_at, ref LIMIT ?2`;
  const cutoff = now - CHAIN_APPLIED_HORIZON_MS;
  sql.exec(
    `UPDATE chain SET applied_floor = MAX(applied_floor, COALESCE((SELECT MAX(block) FROM (${batch})), -1)) WHERE id = 1`,
    cutoff,
    PRUNE_BATCH,
  );
  const chainApplied = sql
    .exec(`DELETE FROM chain_applied WHERE ref IN (SELECT ref FROM (${batch})) RETURNING 1`, cutoff, PRUNE_BATCH)
    .toArray().length;
  return { idempotency, tombstones, chainApplied };
}

/** The highest block whose vault events this Account has applied and forgotten (-1: none). */
export function chainAppliedFloor(sql: SqlStorage): number {
  return sql.exec<{ f: number }>("SELECT applied_floor AS f FROM chain WHERE id = 1").one().f;
}

/** When the oldest guard row (or archived message id) passes its horizon, so the alarm wakes to prune it; null: none. */
export function nextPruneAt(sql: SqlStorage): number | null {
  return sql
    .exec<{ t: number | null }>(
      `SELECT MIN(t) AS t FROM (
         SELECT MIN(created_at) + ?1 AS t FROM idempotency
         UNION ALL SELECT MIN(created_at) + ?2 FROM tombstones
         UNION ALL SELECT MIN(applied_at) + ?3 FROM chain_applied WHERE block IS NOT NULL OR ref NOT LIKE '0x%'
         UNION ALL SELECT MIN(created_at) + ?4 FROM archived_ids)`,
      IDEMPOTENCY_HORIZON_MS,
      TOMBSTONE_HORIZON_MS,
      CHAIN_APPLIED_HORIZON_MS,
      ARCHIVED_ID_HORIZON_MS,
    )
    .one().t;
}
