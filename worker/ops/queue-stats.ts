// What the queue consumers report for GET /v1/ops/status and launch readiness:
// per queue and 5-minute bucket, messages processed, retried, dead-lettered,
// and the age of the oldest message seen (how far behind the consumer runs —
// a Worker cannot read a queue's backlog count, but the age of what it
// consumes shows a backlog building). One small D1 batch per consumer batch,
// never per send.
import { BUCKET_MS } from "../observability/counters";
import { log, metric } from "../observability/log";

export async function recordQueueBatch(
  env: Env,
  queue: string,
  messages: readonly { timestamp: Date; attempts: number }[],
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
    processed: by.get(`queue_processed:${name}`)?.total ?? 0,
    retries: by.get(`queue_retries:${name}`)?.total ?? 0,
    deadLetters: by.get(`dead_letters:${name}-dlq`)?.total ?? 0,
    oldestMessageAgeMs: by.get(`queue_age_ms:${name}`)?.peak ?? 0,
  }));
}
