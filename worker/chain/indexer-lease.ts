// One indexer run steps at a time. Cron invocations are not serialised and a run
// (INDEXER_RUN_MS plus catch-up steps) can outlast its minute, so without this
// two runs would interleave their folds of unclaimed funds (read-then-write of a
// running amount, in chain order): a stale run could drop an event the other had
// already moved the checkpoint past. The lease is one D1 row per vault; every
// take and renewal is a single conditional statement, so two runs never both
// think they hold it.

/**
 * How long a lease lives without renewal: longer than one step's worst case
 * (about four RPC calls, each up to 10 s with one retry, plus the D1 and Account
 * calls), so a live holder renews before it lapses; short enough that a run that
 * died holding it delays the next one by about two minutes at most.
 */
export const LEASE_MS = 120_000;

export interface IndexerLease {
  id: string;
  holder: string;
}

/** Takes the lease if it is free or lapsed; null when another run holds it. */
export async function takeLease(env: Env, id: string, now = Date.now()): Promise<IndexerLease | null> {
  const holder = crypto.randomUUID();
  const row = await env.DB.prepare(
    `INSERT INTO indexer_leases (id, holder, until) VALUES (?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, until = excluded.until
       WHERE indexer_leases.until < ?
     RETURNING holder`,
  )
    .bind(id, holder, now + LEASE_MS, now)
    .first<{ holder: string }>();
  return row?.holder === holder ? { id, holder } : null;
}

/**
 * Extends the lease before a step. False when it was lost: another run took it
 * after it lapsed (this run stalled for longer than LEASE_MS), so this run must
 * not step again. A lapsed lease nobody took is still this run's.
 */
export async function renewLease(env: Env, lease: IndexerLease, now = Date.now()): Promise<boolean> {
  const r = await env.DB.prepare("UPDATE indexer_leases SET until = ? WHERE id = ? AND holder = ?")
    .bind(now + LEASE_MS, lease.id, lease.holder)
    .run();
  return r.meta.changes > 0;
}

/** Frees the lease at the end of a run, if this run still holds it: the next run need not wait for it to lapse. */
export async function releaseLease(env: Env, lease: IndexerLease): Promise<void> {
  await env.DB.prepare("UPDATE indexer_leases SET until = 0 WHERE id = ? AND holder = ?")
    .bind(lease.id, lease.holder)
    .run();
}
