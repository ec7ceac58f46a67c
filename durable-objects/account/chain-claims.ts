// Funds a wallet received before anybody linked it reach its Account as one
// `claim` (worker/chain/unclaimed.ts): the sum of every vault event the indexer
// folded for that address, through one (block, logIndex) position. Those events
// were never applied here under their own `txHash:logIndex` refs, so when an ops
// reindex reads them again — the address now linked — the ref guard does not
// know them. This module remembers, per claimed address, the position the claim
// covers, and an event of that address at or before it is skipped: its amount
// is already in the claim. One row per claimed address (an Account links one
// wallet), written in the same commit as the claim's credit.
import { getAddress } from "viem";

export const CHAIN_CLAIMS_MIGRATION = `
  CREATE TABLE chain_claims (
    address TEXT PRIMARY KEY,
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    claimed_at INTEGER NOT NULL
  );
  ${backfillClaims()}
`;

/**
 * Claims applied before this table existed, from their refs
 * (`unclaimed:<address>:<block>:<logIndex>`) still in chain_applied (kept 30 days);
 * the highest position of an address wins (rows are inserted in position order).
 */
export function backfillClaims(): string {
  const rest = "substr(ref, 54)";
  const block = `CAST(substr(${rest}, 1, instr(${rest}, ':') - 1) AS INTEGER)`;
  const logIndex = `CAST(substr(${rest}, instr(${rest}, ':') + 1) AS INTEGER)`;
  return `INSERT OR REPLACE INTO chain_claims (address, block, log_index, claimed_at)
    SELECT substr(ref, 11, 42), ${block}, ${logIndex}, applied_at FROM chain_applied
    WHERE ref LIKE 'unclaimed:0x%:%:%' ORDER BY 2, 3;`;
}

/** A vault log's position in the chain. */
export interface LogPosition {
  block: number;
  logIndex: number;
}

/** Whether `wallet`'s funds at `at` are already in a claim this Account applied. */
export function coveredByClaim(sql: SqlStorage, wallet: string, at: LogPosition): boolean {
  return (
    sql
      .exec(
        "SELECT 1 FROM chain_claims WHERE address = ? AND (block > ? OR (block = ? AND log_index >= ?))",
        getAddress(wallet),
        at.block,
        at.block,
        at.logIndex,
      )
      .toArray().length > 0
  );
}

/**
 * Inside the claim's commit: `wallet`'s events through `through` are in it. A
 * later claim of the same address (funds folded again after an earlier one)
 * moves the position on; it never moves back.
 */
export function recordClaim(sql: SqlStorage, wallet: string, through: LogPosition, now: number): void {
  sql.exec(
    `INSERT INTO chain_claims (address, block, log_index, claimed_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (address) DO UPDATE SET block = excluded.block, log_index = excluded.log_index,
       claimed_at = excluded.claimed_at
     WHERE excluded.block > block OR (excluded.block = block AND excluded.log_index > log_index)`,
    getAddress(wallet),
    through.block,
    through.logIndex,
    now,
  );
}
