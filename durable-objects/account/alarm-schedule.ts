// When the Account's alarm should next run: the earliest of every kind of
// pending work (a hold to resolve, an escrow to expire, notices and queue sends
// to retry, a chain deadline to check, history reaching the retention window).
// One alarm per Account serves all of them; Account.alarm() does each in turn.
import { failureNotices, nextDeadline, unsentJobs } from "./chain";
import { HOLD_RESOLVE_AFTER_MS } from "./holds";
import { hasUnflushed } from "./outbox-flush";
import { nextPruneAt } from "./storage-bounds";
import { RETRY_MS } from "./types";

/** How often an accepted chain payment past its deadline is checked against the indexer's progress. */
const EXPIRY_CHECK_MS = 60_000;
/** Least time between two retention checks of an Account whose oldest message cannot move yet. */
const ARCHIVE_CHECK_MS = 3_600_000;

export function nextAlarmAt(sql: SqlStorage, now: number, retention: number): number | null {
  const next: number[] = [];
  const hold = sql
    .exec<{ t: number | null }>("SELECT MIN(created_at) AS t FROM outbox WHERE hold_state = 'held'")
    .one().t;
  if (hold !== null) next.push(Math.max(hold + HOLD_RESOLVE_AFTER_MS, now + RETRY_MS));
  const escrow = sql
    .exec<{ t: number | null }>("SELECT MIN(escrow_until) AS t FROM inbox WHERE escrow_state = 'held'")
    .one().t;
  if (escrow !== null) next.push(Math.max(escrow, now + 1));
  const pendingNotices = sql
    .exec("SELECT 1 FROM inbox WHERE escrow_state IN ('releasing', 'refunding') LIMIT 1")
    .toArray().length;
  const pendingEvents = hasUnflushed(sql);
  const unsent = unsentJobs(sql, 1).length || failureNotices(sql).length;
  const deadline = nextDeadline(sql);
  if (deadline !== null) next.push(Math.max(deadline * 1000 + EXPIRY_CHECK_MS, now + EXPIRY_CHECK_MS));
  if (pendingNotices || pendingEvents || unsent) next.push(now + RETRY_MS);
  // The oldest live history row reaching the retention window (checked at most hourly).
  const oldest = sql
    .exec<{ t: number | null }>(
      `SELECT MIN(t) AS t FROM (SELECT (SELECT created_at FROM inbox ORDER BY seq LIMIT 1) AS t
         UNION ALL SELECT MIN(updated_at) FROM outbox UNION ALL SELECT (SELECT created_at FROM ledger ORDER BY id LIMIT 1))`,
    )
    .one().t;
  if (retention && oldest !== null) next.push(Math.max(oldest + retention, now + ARCHIVE_CHECK_MS));
  // The oldest retry guard reaching its horizon (the same sweep prunes it), even with no history left.
  const prune = retention ? nextPruneAt(sql) : null;
  if (prune !== null) next.push(Math.max(prune, now + ARCHIVE_CHECK_MS));
  return next.length ? Math.min(...next) : null;
}
