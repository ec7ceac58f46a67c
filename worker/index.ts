// Worker entry: HTTP (Hono), queue consumers and the cron indexer; exports the
// Durable Object classes wrangler binds.
import app from "./app";
import { runIndexer } from "./chain/indexer";
import { purgeExpired } from "./maintenance";
import { consumeIndexBatch, type IndexMessage } from "./queues/index-consumer";

export { Account } from "../durable-objects/account";
export { RateLimiter } from "../durable-objects/rate-limiter";

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue === "index") return consumeIndexBatch(batch as MessageBatch<IndexMessage>, env);
    // deliveries (notification rails) and the dead-letter queues are consumed once those rails exist.
    batch.ackAll();
  },
  // Every minute: housekeeping, and in chain mode the indexer, which keeps
  // polling for most of the minute so receipts show within seconds.
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(purgeExpired(env));
    await runIndexer(env);
  },
} satisfies ExportedHandler<Env, unknown>;
