// Worker tests run inside workerd through @cloudflare/vitest-pool-workers, with
// the real bindings from wrangler.toml (D1, Durable Objects, Queues).
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { fakeProviderBindings } from "./test/fakes/credentials.ts";

// Test-only secrets (the pool does not read .dev.vars, and CI has none).
export const TEST_SECRETS = {
  JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789",
  ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
  PII_KEY: "dGVzdC1waWkta2V5LTAxMjM0NTY3ODlhYmNkZWYwMTI=",
  OTP_HMAC_KEY: "test-otp-hmac-key-0123456789abcdef",
  // anvil's default account #9 (a public test key); relayer tests run on their own anvil.
  RELAYER_PRIVATE_KEY: "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
};

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ...TEST_SECRETS,
            TEST_MIGRATIONS: migrations,
            // OAuth, SMS and email providers: real HTTP to a local fake (test/fakes/).
            ...fakeProviderBindings(inject("fakeProviderUrl")),
          },
        },
      })),
    ],
    test: {
      include: ["test/**/*.test.ts", "durable-objects/**/*.test.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      globalSetup: ["./test/fakes/global-setup.mjs"],
      testTimeout: 20_000,
    },
  };
});
