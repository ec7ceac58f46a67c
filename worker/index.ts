// Worker entry: HTTP (Hono), queue consumers and the cron indexer; exports the
// Durable Object classes wrangler binds.
import app from "./app";
import { runIndexer } from "./chain/indexer";
import type { SettleJob } from "./chain/settle-job";
import type { DeliveryJob } from "./domain/delivery-job";
import { purgeExpired } from "./maintenance";
import { consumeDeadLetters, consumeDeliveries } from "./notify/consumer";
import { flushCounters, purgeOldCounters } from "./observability/counters";
import { log } from "./observability/log";
import { buildCheckpoint, checkpointDue } from "./ops/audit";
import { recordQueueBatch } from "./ops/queue-stats";
import { consumeIndexBatch, type IndexMessage } from "./queues/index-consumer";
import { consumeIndexDeadLetters } from "./queues/index-dead-letters";
import { consumeSettleBatch } from "./queues/settle-consumer";

export { Account } from "../durable-objects/account";
export { RateLimiter } from "../durable-objects/rate-limiter";
export { Relayer } from "../durable-objects/relayer";

export default {
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    // Processed, retried and dead-lettered counts, consumer lag and backlog for GET /v1/ops/status.
    ctx.waitUntil(recordQueueBatch(env, batch.queue, batch.messages, batch.metadata));
    if (batch.queue === "index") return consumeIndexBatch(batch as MessageBatch<IndexMessage>, env);
    if (batch.queue === "settle") return consumeSettleBatch(batch as MessageBatch<SettleJob>, env);
    if (batch.queue === "deliveries") return consumeDeliveries(batch as MessageBatch<DeliveryJob>, env);
    if (batch.queue === "index-dlq") return consumeIndexDeadLetters(batch as MessageBatch<IndexMessage>, env);
    if (batch.queue === "deliveries-dlq") return consumeDeadLetters(batch as MessageBatch<DeliveryJob>, env);
    batch.ackAll();
  },
  // Every minute: housekeeping, counters, the audit checkpoint when due, and in
  // chain mode the indexer, which keeps polling for most of the minute so
  // receipts show within seconds.
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(purgeExpired(env));
    ctx.waitUntil(flushCounters(env).then(() => purgeOldCounters(env)));
    // A signed audit checkpoint over every Account's head, at a fixed interval.
    if (checkpointDue(env, controller.scheduledTime)) {
      ctx.waitUntil(
        buildCheckpoint(env).catch((err: Error) => log("error", "audit checkpoint failed", { error: err.name })),
      );
    }
    await runIndexer(env);
  },
} satisfies ExportedHandler<Env, unknown>;
