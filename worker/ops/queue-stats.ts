// Queue figures for GET /v1/ops/status and launch readiness.
//
// Backlog: the Queue producer binding's `metrics()` answers the queue's backlog
// (messages, bytes, oldest message) — read live for every queue this Worker has
// a producer binding for (index, deliveries, settle, deliveries-dlq). Queues
// without one (index-dlq, settle-dlq) report the backlog their consumer saw:
// each consumer batch carries `metadata.metrics.backlogCount` (what was still
// waiting when the batch was handed over), kept as the peak per 5-minute bucket.
// The consumers also count messages processed, retried and dead-lettered, and
// the age of the oldest message taken (how far behind the consumer runs). One
// small D1 batch per consumer batch, never per send.
import { BUCKET_MS } from "../observability/counters";
import { log, metric } from "../observability/log";

export async function recordQueueBatch(
  env: Env,
  queue: string,
  messages: readonly { timestamp: Date; attempts: number }[],
  metadata?: { metrics?: { backlogCount?: number } },
): Promise<void> {
  if (messages.length === 0) return;
  const now = Date.now();
  const bucket = Math.floor(now / BUCKET_MS);
  const oldest = Math.max(0, now - Math.min(...messages.map((m) => m.timestamp.getTime())));
  const add = env.DB.prepare(
    "INSERT INTO ops_counters (bucket, metric, value) VALUES (?, ?, ?) ON CONFLICT (bucket, metric) DO UPDATE SET value = value + excluded.value",
  );
  const max = env.DB.prepare(
    "INSERT INTO ops_counters (bucket, metric, value) VALUES (?, ?, ?) ON CONFLICT (bucket, metric) DO UPDATE SET value = MAX(value, excluded.value)",
  );
  const dead = queue.endsWith("-dlq");
  const statements = [
    add.bind(bucket, `${dead ? "dead_letters" : "queue_processed"}:${queue}`, messages.length),
    max.bind(bucket, `queue_age_ms:${queue}`, oldest),
  ];
  const backlog = metadata?.metrics?.backlogCount;
  if (typeof backlog === "number") statements.push(max.bind(bucket, `queue_backlog:${queue}`, backlog));
  // A message delivered again (attempts > 1) is a retry of an earlier failure.
  const retried = messages.filter((m) => m.attempts > 1).length;
  if (retried) statements.push(add.bind(bucket, `queue_retries:${queue}`, retried));
  if (dead) {
    log("warn", "dead letters", { queue, messages: messages.length });
    metric(env, { kind: "queue_dead_letter", label: queue, count: messages.length });
  }
  try {
    await env.DB.batch(statements);
  } catch (err) {
    log("warn", "queue stats write failed", { queue, error: (err as Error).name });
  }
}

export interface QueueStats {
  name: string;
  /** Peak backlog the consumer saw handed a batch in the window (messages still waiting). */
  peakBacklog: number;
  processed: number;
  retries: number;
  deadLetters: number;
  /** Age of the oldest message the consumer took in the window (ms): a growing value means a backlog. */
  oldestMessageAgeMs: number;
}

export const QUEUES = ["index", "deliveries", "settle"] as const;

export async function queueStats(env: Env, sinceMs: number): Promise<QueueStats[]> {
  const { results } = await env.DB.prepare(
    `SELECT metric, SUM(value) AS total, MAX(value) AS peak FROM ops_counters
     WHERE bucket >= ? AND (metric LIKE 'queue_%' OR metric LIKE 'dead_letters:%') GROUP BY metric`,
  )
    .bind(Math.floor(sinceMs / BUCKET_MS))
    .all<{ metric: string; total: number; peak: number }>();
  const by = new Map(results.map((r) => [r.metric, r]));
  return QUEUES.map((name) => ({
    name,
    peakBacklog: by.get(`queue_backlog:${name}`)?.peak ?? 0,
    processed: by.get(`queue_processed:${name}`)?.total ?? 0,
    retries: by.get(`queue_retries:${name}`)?.total ?? 0,
    deadLetters: by.get(`dead_letters:${name}-dlq`)?.total ?? 0,
    oldestMessageAgeMs: by.get(`queue_age_ms:${name}`)?.peak ?? 0,
  }));
}

export interface QueueBacklog {
  name: string;
  /** Messages waiting now; null when this Worker has no producer binding for the queue or the read failed. */
  messages: number | null;
  bytes: number | null;
  /** Age of the oldest waiting message (ms), 0 when none. */
  oldestAgeMs: number | null;
}

/** Producer bindings by queue name (the queues `metrics()` can be asked about). */
const PRODUCERS = { index: "INDEX", deliveries: "DELIVERIES", settle: "SETTLE", "deliveries-dlq": "DLQ" } as const;
export const BACKLOG_QUEUES = [...QUEUES, "index-dlq", "deliveries-dlq", "settle-dlq"] as const;

/** Each queue's backlog right now, from its producer binding's metrics(). */
export async function queueBacklogs(env: Env, now = Date.now()): Promise<QueueBacklog[]> {
  return Promise.all(
    BACKLOG_QUEUES.map(async (name): Promise<QueueBacklog> => {
      const binding = PRODUCERS[name as keyof typeof PRODUCERS];
      const q = binding ? (env[binding] as Queue | undefined) : undefined;
      if (!q || typeof q.metrics !== "function") return { name, messages: null, bytes: null, oldestAgeMs: null };
      try {
        const m = await q.metrics();
        const oldest = m.oldestMessageTimestamp ? new Date(m.oldestMessageTimestamp).getTime() : 0;
        return {
          name,
          messages: m.backlogCount,
          bytes: m.backlogBytes,
          oldestAgeMs: m.backlogCount && oldest ? Math.max(0, now - oldest) : 0,
        };
      } catch (err) {
        log("warn", "queue metrics failed", { queue: name, error: (err as Error).name });
        return { name, messages: null, bytes: null, oldestAgeMs: null };
      }
    }),
  );
}
