import { defineConfig } from "drizzle-kit";

// Generate only (`npm run db:generate`); wrangler applies the SQL to D1.
// Never `drizzle-kit push` against D1. tablesFilter keeps wrangler's own
// d1_migrations table out of drizzle's diff.
export default defineConfig({
  dialect: "sqlite",
  schema: "./worker/db/schema.ts",
  out: "./migrations",
  tablesFilter: ["!d1_migrations", "!_cf_*"],
});
