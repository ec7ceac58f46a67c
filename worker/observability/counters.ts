// Counters for GET /v1/ops/status that work locally as well as deployed: each
// isolate counts in memory and adds its counts to D1 (ops_counters, 5-minute
// buckets) at most once per FLUSH_MS, in waitUntil — so a request never waits
// on D1 for them and the send path writes nothing global. A count lost with an
// evicted isolate is at most a minute of it; Analytics Engine has the exact
// numbers in production.
//
// Money counters (volume, fees) are base units and must stay exact past 2^53:
// counts are bigint in memory, bound to D1 as decimal strings (the INTEGER
// column's affinity stores them as exact 64-bit integers, no migration needed)
// and read back with CAST(... AS TEXT). A 64-bit column holds 9.2 × 10^18 base
// units (9.2 trillion USDC) per 5-minute bucket.
export const BUCKET_MS = 300_000;
const FLUSH_MS = 60_000;

export type CounterName =
  | "requests"
  | "errors_4xx"
  | "errors_5xx"
  | "sends"
  | "volume"
  | "fees"
  | "signups"
  | "abuse_refused";

let pending = new Map<string, bigint>(); // `${bucket}:${name}` → count
let lastFlush = Date.now();

export function bump(name: CounterName, by: number | bigint = 1): void {
  const key = `${Math.floor(Date.now() / BUCKET_MS)}:${name}`;
  pending.set(key, (pending.get(key) ?? 0n) + BigInt(by));
}

/** Adds what this isolate counted to D1 if a minute has passed (or `force`). */
export function maybeFlush(env: Env, ctx: { waitUntil(p: Promise<unknown>): void }, force = false): void {
  if (!force && Date.now() - lastFlush < FLUSH_MS) return;
  ctx.waitUntil(flushCounters(env));
}

export async function flushCounters(env: Env): Promise<void> {
  lastFlush = Date.now();
  if (pending.size === 0) return;
  const batch = pending;
  pending = new Map();
  const rows = [...batch].map(([key, n]) => {
    const i = key.indexOf(":");
    return [Number(key.slice(0, i)), key.slice(i + 1), n.toString()] as const;
  });
  try {
    await env.DB.batch(
      rows.map(([bucket, metric, n]) =>
        env.DB.prepare(
          "INSERT INTO ops_counters (bucket, metric, value) VALUES (?, ?, ?) ON CONFLICT (bucket, metric) DO UPDATE SET value = value + excluded.value",
        ).bind(bucket, metric, n),
      ),
    );
  } catch {
    // Put them back for the next flush rather than losing them.
    for (const [bucket, metric, n] of rows) {
      const key = `${bucket}:${metric}`;
      pending.set(key, (pending.get(key) ?? 0n) + BigInt(n));
    }
  }
}

/** Sums of every counter since `sinceMs`, exact (SUM of 64-bit integers, read as text). */
export async function countersSince(env: Env, sinceMs: number): Promise<Record<CounterName, bigint>> {
  const { results } = await env.DB.prepare(
    "SELECT metric, CAST(SUM(value) AS TEXT) AS n FROM ops_counters WHERE bucket >= ? GROUP BY metric",
  )
    .bind(Math.floor(sinceMs / BUCKET_MS))
    .all<{ metric: CounterName; n: string }>();
  const out = {
    requests: 0n,
    errors_4xx: 0n,
    errors_5xx: 0n,
    sends: 0n,
    volume: 0n,
    fees: 0n,
    signups: 0n,
    abuse_refused: 0n,
  } as Record<CounterName, bigint>;
  for (const r of results) out[r.metric] = BigInt(r.n);
  return out;
}

/** Keeps ops_counters bounded (the Cron). */
export function purgeOldCounters(env: Env, now = Date.now()) {
  return env.DB.prepare("DELETE FROM ops_counters WHERE bucket < ?")
    .bind(Math.floor((now - 8 * 86_400_000) / BUCKET_MS))
    .run();
}
