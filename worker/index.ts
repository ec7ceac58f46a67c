// Worker entry: HTTP (Hono), queue consumers and the cron indexer; exports the
// Durable Object classes wrangler binds.
import app from "./app";
import type { DeliveryJob } from "./domain/delivery-job";
import { purgeExpired } from "./maintenance";
import { consumeDeadLetters, consumeDeliveries } from "./notify/consumer";
import { consumeIndexBatch, type IndexMessage } from "./queues/index-consumer";

export { Account } from "../durable-objects/account";
export { RateLimiter } from "../durable-objects/rate-limiter";

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue === "index") return consumeIndexBatch(batch as MessageBatch<IndexMessage>, env);
    if (batch.queue === "deliveries") return consumeDeliveries(batch as MessageBatch<DeliveryJob>, env);
    if (batch.queue === "deliveries-dlq") return consumeDeadLetters(batch as MessageBatch<DeliveryJob>, env);
    batch.ackAll();
  },
  // Every minute. The chain indexer (LEDGER_MODE=chain) will run here too.
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(purgeExpired(env));
  },
} satisfies ExportedHandler<Env, unknown>;
