// Applies the drizzle-kit migrations to the test D1 (idempotent; setup files may run twice).
import { applyD1Migrations, env } from "cloudflare:test";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
