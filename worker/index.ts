// Worker entry: HTTP (Hono), queue consumers and the cron indexer; exports the
// Durable Object classes wrangler binds.
import app from "./app";
import type { SettleJob } from "./chain/settle-job";
import { purgeExpired } from "./maintenance";
import { consumeIndexBatch, type IndexMessage } from "./queues/index-consumer";
import { consumeSettleBatch } from "./queues/settle-consumer";

export { Account } from "../durable-objects/account";
export { RateLimiter } from "../durable-objects/rate-limiter";
export { Relayer } from "../durable-objects/relayer";

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue === "index") return consumeIndexBatch(batch as MessageBatch<IndexMessage>, env);
    if (batch.queue === "settle") return consumeSettleBatch(batch as MessageBatch<SettleJob>, env);
    // deliveries (notification rails) and the dead-letter queues are consumed once those rails exist.
    batch.ackAll();
  },
  // Every minute. The chain indexer (LEDGER_MODE=chain) will run here too.
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(purgeExpired(env));
  },
} satisfies ExportedHandler<Env, unknown>;
