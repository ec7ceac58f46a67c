// Vault funds of addresses no user has linked yet. One D1 row per such address
// (its running amount and the newest event folded in), deleted once the funds
// are credited to the user who links the wallet: bounded by the number of
// unlinked addresses holding funds, never by the number of events.
import { type Address, getAddress } from "viem";

/** Adds (or subtracts) one event's amount, once: events are folded in chain order. */
export async function foldUnclaimed(
  env: Env,
  address: Address,
  delta: bigint,
  at: { block: number; logIndex: number },
): Promise<void> {
  const a = getAddress(address);
  const row = await env.DB.prepare(
    "SELECT amount, last_block, last_log_index FROM unclaimed_deposits WHERE address = ?",
  )
    .bind(a)
    .first<{ amount: string; last_block: number; last_log_index: number }>();
  if (row && (row.last_block > at.block || (row.last_block === at.block && row.last_log_index >= at.logIndex))) {
    return; // already folded in (a range read again)
  }
  let amount = BigInt(row?.amount ?? "0") + delta;
  if (amount < 0n) amount = 0n; // money that came in before the indexer's start block
  await env.DB.prepare(
    `INSERT INTO unclaimed_deposits (address, amount, last_block, last_log_index, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (address) DO UPDATE SET amount = excluded.amount, last_block = excluded.last_block,
       last_log_index = excluded.last_log_index, updated_at = excluded.updated_at`,
  )
    .bind(a, `${amount}`, at.block, at.logIndex, Date.now())
    .run();
}

/**
 * Credits unclaimed funds to users who have since linked the address. The
 * Account dedupes the credit by its ref and by the claimed position, so a crash
 * between the credit and the delete credits nothing twice.
 */
export async function claimUnclaimed(env: Env): Promise<number> {
  const { results } = await env.DB.prepare(
    `SELECT u.address, u.amount, u.last_block, u.last_log_index, users.id AS user_id
     FROM unclaimed_deposits u JOIN users ON users.wallet_address = u.address LIMIT 50`,
  ).all<{ address: string; amount: string; last_block: number; last_log_index: number; user_id: string }>();
  for (const r of results) {
    // Even a zero amount: the Account remembers through which event the address's
    // funds are in the claim, and a reindex that re-reads those events skips them.
    await env.ACCOUNT.getByName(r.user_id).chainApply({
      t: "claim",
      ref: `unclaimed:${r.address}:${r.last_block}:${r.last_log_index}`,
      amount: r.amount,
      wallet: r.address,
      through: { block: r.last_block, logIndex: r.last_log_index },
    });
    await env.DB.prepare("DELETE FROM unclaimed_deposits WHERE address = ? AND last_block = ? AND last_log_index = ?")
      .bind(r.address, r.last_block, r.last_log_index)
      .run();
  }
  return results.length;
}
