// Worker tests run inside workerd through @cloudflare/vitest-pool-workers, with
// the real bindings from wrangler.toml (D1, Durable Objects, Queues).
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Test-only secrets (the pool does not read .dev.vars, and CI has none).
export const TEST_SECRETS = {
  JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789",
  ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
  PII_KEY: "dGVzdC1waWkta2V5LTAxMjM0NTY3ODlhYmNkZWYwMTI=",
  OTP_HMAC_KEY: "test-otp-hmac-key-0123456789abcdef",
};

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: { ...TEST_SECRETS, TEST_MIGRATIONS: migrations },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts", "durable-objects/**/*.test.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      testTimeout: 20_000,
    },
  };
});
