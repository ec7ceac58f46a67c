// Worker tests run inside workerd through @cloudflare/vitest-pool-workers, with
// the real bindings from wrangler.toml (D1, Durable Objects, Queues).
import { appendFileSync, mkdirSync, rmSync } from "node:fs";
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
  // Ed25519 seed that signs audit checkpoints (32 bytes, base64).
  AUDIT_SIGNING_KEY: "dGVzdC1hdWRpdC1zaWduaW5nLWtleS0wMTIzNDU2Nzg=",
};

// Every console line of the suite (Worker, Durable Objects, tests) lands in this
// file; scripts/log-scan.mjs (a step of npm test) searches it for PII and tokens.
const LOG_FILE = path.join(import.meta.dirname, ".test-results", "worker-logs.txt");

export default defineConfig(async () => {
  mkdirSync(path.dirname(LOG_FILE), { recursive: true });
  rmSync(LOG_FILE, { force: true });
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ...TEST_SECRETS,
            TEST_MIGRATIONS: migrations,
            // OAuth, SMS, email and notification providers: real HTTP to a local fake (test/fakes/).
            ...fakeProviderBindings(inject("fakeProviderUrl")),
            // Delivery retries within seconds, so the retry and dead-letter paths run in a test.
            NOTIFY_BACKOFF_BASE_SECONDS: "1",
            NOTIFY_BACKOFF_MAX_SECONDS: "2",
            // A short coalescing window and provider timeout, so both are exercised within a test.
            NOTIFY_COALESCE_SECONDS: "2",
            NOTIFY_PROVIDER_TIMEOUT_MS: "3000",
          },
          // Fewer retries than production (wrangler.toml: 8) before the dead-letter queue, read promptly.
          queueConsumers: {
            deliveries: { maxBatchSize: 20, maxBatchTimeout: 1, maxRetries: 2, deadLetterQueue: "deliveries-dlq" },
            "deliveries-dlq": { maxBatchSize: 10, maxBatchTimeout: 1 },
          },
        },
      })),
    ],
    test: {
      include: ["test/**/*.test.ts", "durable-objects/**/*.test.ts"],
      setupFiles: ["./test/apply-migrations.ts", "./test/log-capture.ts"],
      globalSetup: ["./test/fakes/global-setup.mjs"],
      testTimeout: 20_000,
      onConsoleLog(log) {
        appendFileSync(LOG_FILE, `${log.replace(/\n+$/, "")}\n`);
        // Access-log lines are in the file; keep the terminal readable.
        if (log.startsWith('{"level":"info","msg":"request"')) return false;
      },
    },
  };
});
