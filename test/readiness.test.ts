// Launch readiness: every named check, pass and fail, through the real route with
// a production configuration (apiWith replaces [vars] and secrets).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CONSENT_VERSION } from "../worker/notify/consent";
import { BUCKET_MS } from "../worker/observability/counters";
import { chainContractsCheck, consentCheck, indexerLagCheck, migrationsCheck } from "../worker/ops/readiness";
import { api } from "./helpers";
import { apiWith } from "./identity-helpers";

/** A production configuration that passes every check. */
const PRODUCTION: Record<string, string> = {
  ENVIRONMENT: "production",
  APP_ORIGIN: "https://paidinbox.example",
  RP_ID: "",
  OTP_PROVIDER: "http",
  TWILIO_ACCOUNT_SID: "AC0123456789abcdef",
  TWILIO_AUTH_TOKEN: "Zq8vR2mX5tL9wK3pN7cB1yH4jF6gD0sA",
  TWILIO_FROM: "MG0123456789abcdef",
  SENDGRID_API_KEY: "SG.Zq8vR2mX5tL9wK3pN7cB1yH4jF6gD0sAq8vR2mX",
  EMAIL_FROM: "codes at paidinbox dot example",
  SEND_RATE_PER_MINUTE: "30",
  SEND_RATE_BURST: "10",
  RECEIVE_RATE_PER_MINUTE: "120",
  RECEIVE_RATE_BURST: "30",
  OTP_IP_DAILY_CAP: "20",
  LOOKUP_IP_PER_MINUTE: "30",
  ABUSE_FIRST_CONTACTS_PER_HOUR: "",
  ABUSE_FIRST_CONTACTS_PER_DAY: "",
  ABUSE_NEW_ACCOUNT_FIRST_CONTACTS_PER_HOUR: "",
  ABUSE_COMPLAINT_BPS: "",
  ABUSE_FAILED_PAYMENTS_PER_DAY: "",
  ABUSE_SIGNUPS_PER_IP: "",
  ABUSE_SIGNUPS_PER_DEVICE: "",
  JWT_SECRET: "Hq3L9vX2mR8tK5wN1pC7bY4jF0gD6sAzQe2",
  ADMIN_TOKEN: "Av7nQ2wE9rT4yU1iO6pL3kJ8hG5fD0sZ",
  PII_KEY: "Rk7yP2qW9mX4tL8vN3cB6hJ1fG5dS0aZq3e8R1w2t4Y=",
  OTP_HMAC_KEY: "Wn5tK8pR2mX9vL3qC7bY1hJ4fG6dS0aZ",
  AUDIT_SIGNING_KEY: "Pq9sL3vX7mR1tK5wN2pC8bY4jF0gD6sAzQe2Wn5tK8o=",
  // A staging deployment on the simulated ledger (chain mode is checked from its facts below).
  ALLOW_SIMULATED_LEDGER: "true",
};

async function readiness(overrides: Record<string, string>) {
  const r = await apiWith({ ...PRODUCTION, ...overrides }, "GET", "/v1/compliance/launch-readiness", {
    token: PRODUCTION.ADMIN_TOKEN,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { ready: boolean; checks: { name: string; status: string; reason: string }[] };
}

const check = (body: Awaited<ReturnType<typeof readiness>>, name: string) => body.checks.find((c) => c.name === name);

describe("launch readiness", () => {
  it("a complete production configuration passes every check (warns: staging ledger, no checkpoint yet)", async () => {
    const body = await readiness({});
    const notPass = body.checks.filter((c) => c.status !== "pass");
    // The only acceptable non-pass: no checkpoint signed yet, and the simulated (staging) ledger.
    expect(
      notPass.every((c) => ["audit_log", "ledger_mode"].includes(c.name) && c.status === "warn"),
      JSON.stringify(notPass),
    ).toBe(true);
    expect(body.ready).toBe(true);
    expect(body.checks.map((c) => c.name)).toEqual([
      "secrets",
      "app_origin",
      "rp_id",
      "otp_provider",
      "rate_limits",
      "dev_routes",
      "ledger_mode",
      "chain_contracts",
      "dead_letters",
      "indexer_lag",
      "migrations",
      "consent_version",
      "audit_log",
    ]);
    // Never a secret's value in the answer.
    expect(JSON.stringify(body)).not.toContain(PRODUCTION.JWT_SECRET);
  });

  const failures: [string, Record<string, string>, string, RegExp][] = [
    [
      "a development secret",
      { JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789" },
      "secrets",
      /JWT_SECRET looks like a development value/,
    ],
    ["a missing secret", { AUDIT_SIGNING_KEY: "" }, "secrets", /AUDIT_SIGNING_KEY is not set/],
    ["a missing APP_ORIGIN", { APP_ORIGIN: "" }, "app_origin", /APP_ORIGIN is not set/],
    ["an http APP_ORIGIN", { APP_ORIGIN: "http://paidinbox.example" }, "app_origin", /must be https/],
    ["an RP_ID for another domain", { RP_ID: "evil.example" }, "rp_id", /does not match/],
    ["the dev OTP provider", { OTP_PROVIDER: "dev" }, "otp_provider", /OTP_PROVIDER is dev/],
    ["http OTP without SendGrid", { SENDGRID_API_KEY: "" }, "otp_provider", /SendGrid/],
    ["development rate limits", { SEND_RATE_PER_MINUTE: "1000000" }, "rate_limits", /SEND_RATE_PER_MINUTE/],
    [
      "development abuse thresholds",
      { ABUSE_SIGNUPS_PER_IP: "1000000,1000000" },
      "rate_limits",
      /ABUSE_SIGNUPS_PER_IP/,
    ],
    ["abuse checks off", { ABUSE_CHECKS: "off" }, "rate_limits", /ABUSE_CHECKS/],
    ["development environment", { ENVIRONMENT: "development" }, "dev_routes", /development routes/],
    [
      "a simulated ledger without the staging flag",
      { ALLOW_SIMULATED_LEDGER: "" },
      "ledger_mode",
      /without ALLOW_SIMULATED_LEDGER/,
    ],
    ["chain mode without a vault", { LEDGER_MODE: "chain", VAULT_ADDRESS: "" }, "chain_contracts", /not set/],
    ["the audit chain off", { AUDIT_CHAIN: "off" }, "audit_log", /AUDIT_CHAIN=off/],
  ];
  for (const [what, overrides, name, reason] of failures) {
    it(`fails ${name} with ${what}`, async () => {
      const body = await readiness(overrides);
      expect(check(body, name)).toMatchObject({ status: "fail" });
      expect(check(body, name)?.reason).toMatch(reason);
      expect(body.ready).toBe(false);
    });
  }

  it("the development configuration of this repo is visibly not ready", async () => {
    const r = await api("GET", "/v1/compliance/launch-readiness", { token: env.ADMIN_TOKEN });
    expect(r.status).toBe(200);
    expect(r.body.ready).toBe(false);
    for (const name of ["secrets", "app_origin", "otp_provider", "rate_limits", "dev_routes"]) {
      expect(check(r.body, name)?.status, name).toBe("fail");
    }
  });

  it("dead letters: warn above zero, fail at the threshold", async () => {
    const bucket = Math.floor(Date.now() / BUCKET_MS);
    await env.DB.prepare("INSERT INTO ops_counters (bucket, metric, value) VALUES (?, 'dead_letters:index-dlq', 3)")
      .bind(bucket)
      .run();
    expect(check(await readiness({ READINESS_DLQ_MAX: "10" }), "dead_letters")).toMatchObject({ status: "warn" });
    expect(check(await readiness({ READINESS_DLQ_MAX: "3" }), "dead_letters")).toMatchObject({
      status: "fail",
      reason: "3 dead letters in the last day (threshold 3)",
    });
    await env.DB.prepare("DELETE FROM ops_counters WHERE metric = 'dead_letters:index-dlq'").run();
  });

  it("audit checkpoint: warn until one is signed, pass after", async () => {
    await env.DB.prepare("DELETE FROM audit_checkpoints").run();
    expect(check(await readiness({}), "audit_log")).toMatchObject({ status: "warn" });
    const made = await api("POST", "/v1/ops/audit/checkpoints", { token: env.ADMIN_TOKEN });
    expect(made.status).toBe(201);
    expect(check(await readiness({}), "audit_log")).toMatchObject({ status: "pass" });
  });

  it("consent version: the notification rails' dated consent text version, nothing else", async () => {
    const body = await readiness({});
    expect(check(body, "consent_version")).toMatchObject({ status: "pass" });
    expect(check(body, "consent_version")?.reason).toContain(CONSENT_VERSION);
    expect(consentCheck("")).toMatchObject({ status: "fail" });
    expect(consentCheck("draft")).toMatchObject({ status: "fail" });
  });

  it("migrations, indexer lag and chain contracts from their facts", () => {
    expect(migrationsCheck([]).status).toBe("fail");
    expect(migrationsCheck(["0000_foundation.sql"]).reason).toMatch(/not applied: 0001/);
    const chainEnv = { ...env, ...PRODUCTION, LEDGER_MODE: "chain" } as unknown as Env;
    const at = (lagBlocks: number | null, rpcError?: string) => ({
      mode: "chain" as const,
      chainId: 31337,
      vault: `0x${"2".repeat(40)}`,
      confirmations: 2,
      indexer: {
        checkpoint: { blockNumber: 1, blockHash: `0x${"3".repeat(64)}`, blockTime: new Date(0).toISOString() },
        head: 1,
        lagBlocks,
        lagSeconds: null,
        ...(rpcError ? { rpcError } : {}),
      },
      relayer: { inFlight: null },
    });
    expect(indexerLagCheck(chainEnv, at(3)).status).toBe("pass");
    expect(indexerLagCheck(chainEnv, at(500)).reason).toBe("500 blocks behind (threshold 50)");
    expect(indexerLagCheck(chainEnv, at(null, "HttpRequestError")).status).toBe("fail");
    expect(indexerLagCheck(chainEnv, null).status).toBe("fail");
    const vault = (v: object) => ({ configured: true, paused: false, feeRecipient: `0x${"1".repeat(40)}`, ...v });
    expect(chainContractsCheck(chainEnv, vault({})).status).toBe("pass");
    expect(chainContractsCheck(chainEnv, vault({ paused: true })).reason).toBe("the vault is paused");
    expect(chainContractsCheck(chainEnv, vault({ feeRecipient: `0x${"0".repeat(40)}` })).reason).toBe(
      "no fee recipient",
    );
    expect(chainContractsCheck(chainEnv, vault({ error: "ContractFunctionExecutionError" })).status).toBe("fail");
    // FEE_BPS (250 here) must be what the vault charges.
    expect(chainContractsCheck(chainEnv, vault({ feeBps: 250n })).status).toBe("pass");
    expect(chainContractsCheck(chainEnv, vault({ feeBps: 300n }))).toMatchObject({
      status: "fail",
      reason: "FEE_BPS is 250 but the vault charges 300 basis points: quotes would not match what is charged",
    });
  });

  it("the migrations check passes on the applied test database", async () => {
    const { results } = await env.DB.prepare("SELECT name FROM d1_migrations").all<{ name: string }>();
    expect(migrationsCheck(results.map((r) => r.name)).status).toBe("pass");
  });
});
