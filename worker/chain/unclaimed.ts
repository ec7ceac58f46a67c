// Vault funds of addresses no user has linked yet. One D1 row per such address
// (its running amount and the newest event folded in), deleted once the funds
// are credited to the user who links the wallet: bounded by the number of
// unlinked addresses holding funds, never by the number of events.
import { type Address, getAddress } from "viem";

/** An address's unclaimed row as read: every write below is conditional on it, so a concurrent write is never overwritten. */
interface UnclaimedRow {
  amount: string;
  last_block: number;
  last_log_index: number;
}

const readRow = (env: Env, a: string) =>
  env.DB.prepare("SELECT amount, last_block, last_log_index FROM unclaimed_deposits WHERE address = ?")
    .bind(a)
    .first<UnclaimedRow>();

/** Replaces `row` (as read) by `next`, or inserts `next` when nothing was there; false if the row changed meanwhile. */
async function swapRow(env: Env, a: string, row: UnclaimedRow | null, next: UnclaimedRow | null): Promise<boolean> {
  const now = Date.now();
  const r = !row
    ? await env.DB.prepare(
        `INSERT INTO unclaimed_deposits (address, amount, last_block, last_log_index, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (address) DO NOTHING`,
      )
        .bind(a, next?.amount, next?.last_block, next?.last_log_index, now)
        .run()
    : next
      ? await env.DB.prepare(
          `UPDATE unclaimed_deposits SET amount = ?, last_block = ?, last_log_index = ?, updated_at = ?
           WHERE address = ? AND amount = ? AND last_block = ? AND last_log_index = ?`,
        )
          .bind(
            next.amount,
            next.last_block,
            next.last_log_index,
            now,
            a,
            row.amount,
            row.last_block,
            row.last_log_index,
          )
          .run()
      : await env.DB.prepare(
          "DELETE FROM unclaimed_deposits WHERE address = ? AND amount = ? AND last_block = ? AND last_log_index = ?",
        )
          .bind(a, row.amount, row.last_block, row.last_log_index)
          .run();
  return r.meta.changes > 0;
}

/** Bounded retries of a compare-and-swap: only a concurrent writer (which the indexer lease rules out) makes one fail. */
const MAX_SWAPS = 10;

/** Adds (or subtracts) one event's amount, once: events are folded in chain order. */
export async function foldUnclaimed(
  env: Env,
  address: Address,
  delta: bigint,
  at: { block: number; logIndex: number },
): Promise<void> {
  const a = getAddress(address);
  for (let i = 0; i < MAX_SWAPS; i++) {
    const row = await readRow(env, a);
    if (row && (row.last_block > at.block || (row.last_block === at.block && row.last_log_index >= at.logIndex))) {
      return; // already folded in (a range read again)
    }
    let amount = BigInt(row?.amount ?? "0") + delta;
    if (amount < 0n) amount = 0n; // money that came in before the indexer's start block
    if (await swapRow(env, a, row, { amount: `${amount}`, last_block: at.block, last_log_index: at.logIndex })) return;
  }
  throw new Error(`unclaimed funds of ${a} kept changing while folding`);
}

export interface PendingClaim extends UnclaimedRow {
  address: string;
  user_id: string;
}

/** Unclaimed rows whose address a user has linked since. */
export async function pendingClaims(env: Env): Promise<PendingClaim[]> {
  const { results } = await env.DB.prepare(
    `SELECT u.address, u.amount, u.last_block, u.last_log_index, users.id AS user_id
     FROM unclaimed_deposits u JOIN users ON users.wallet_address = u.address LIMIT 50`,
  ).all<PendingClaim>();
  return results;
}

/**
 * Credits one row as read to its user, then takes what was credited out of the
 * row: deleted if unchanged, else (an event folded in after the read) reduced
 * by the credited amount, so the later event is neither lost nor credited again.
 * The Account dedupes the credit by its ref and by the claimed position, so a
 * crash between the credit and the delete credits nothing twice.
 */
export async function claimOne(env: Env, r: PendingClaim): Promise<void> {
  // Even a zero amount: the Account remembers through which event the address's
  // funds are in the claim, and a reindex that re-reads those events skips them.
  const { applied } = await env.ACCOUNT.getByName(r.user_id).chainApply({
    t: "claim",
    ref: `unclaimed:${r.address}:${r.last_block}:${r.last_log_index}`,
    amount: r.amount,
    wallet: r.address,
    through: { block: r.last_block, logIndex: r.last_log_index },
  });
  const claimed = BigInt(r.amount);
  for (let i = 0; i < MAX_SWAPS; i++) {
    const row = await readRow(env, r.address);
    if (!row) return;
    const same = row.amount === r.amount && row.last_block === r.last_block && row.last_log_index === r.last_log_index;
    if (!same && !applied) return; // credited by an earlier attempt whose row has moved on: leave it to the next claim
    let rest = same ? 0n : BigInt(row.amount) - claimed;
    if (rest < 0n) rest = 0n; // a debit folded after the read (see docs/architecture.md, chain indexer)
    if (await swapRow(env, r.address, row, same ? null : { ...row, amount: `${rest}` })) return;
  }
  throw new Error(`unclaimed funds of ${r.address} kept changing while claiming`);
}

/** Credits unclaimed funds to users who have since linked the address. */
export async function claimUnclaimed(env: Env): Promise<number> {
  const rows = await pendingClaims(env);
  for (const r of rows) await claimOne(env, r);
  return rows.length;
}
