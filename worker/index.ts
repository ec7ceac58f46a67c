// Worker entry: HTTP (Hono), queue consumers and the cron indexer; exports the
// Durable Object classes wrangler binds.
import app from "./app";

export { Account } from "../durable-objects/account";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
