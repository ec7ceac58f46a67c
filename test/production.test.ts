// Production defaults (issue #11): a deployment with development settings left
// over must not hand out money or codes, and production limits apply when a
// variable is unset. Each request runs the real Hono app with overridden vars.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../worker/app";
import { signIn } from "./helpers";
import { uniqueIp, uniquePhone } from "./identity-helpers";

const PROD = { ENVIRONMENT: "production", APP_ORIGIN: "https://paidinbox.example" };
const STAGING = { ...PROD, ALLOW_SIMULATED_LEDGER: "true" };

async function call(
  vars: Record<string, string>,
  method: string,
  url: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) }),
    { ...env, ...vars },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

describe("production defaults", () => {
  it("refuses a simulated ledger outside development with 503 misconfigured", async () => {
    for (const path of ["/health", "/v1/auth/providers", "/v1/me"]) {
      const res = await call(PROD, "GET", `https://paidinbox.example${path}`);
      expect(res.status).toBe(503);
      expect(res.body.error).toBe("misconfigured");
      expect(res.body.message).toContain("ALLOW_SIMULATED_LEDGER");
    }
    // Chain mode, or an explicit staging allowance, serves.
    expect((await call({ ...PROD, LEDGER_MODE: "chain" }, "GET", "https://paidinbox.example/health")).status).toBe(200);
    expect((await call(STAGING, "GET", "https://paidinbox.example/health")).status).toBe(200);
  });

  it("has no faucet and no dev routes outside development", async () => {
    const s = await signIn();
    const topup = await call(STAGING, "POST", "https://paidinbox.example/v1/payments/topup", {
      token: s.accessToken,
      body: { amount: "1000000000" },
    });
    expect(topup.status).toBe(403);
    expect(topup.body.error).toBe("faucet_disabled");
    expect((await call(STAGING, "GET", "https://paidinbox.example/v1/dev/outbox")).status).toBe(404);
  });

  it("keeps the faucet and dev outbox off on a public host even when ENVIRONMENT was left at development", async () => {
    const s = await signIn();
    const dev = { ENVIRONMENT: "development" };
    const topup = await call(dev, "POST", "https://paid-inbox.someone.workers.dev/v1/payments/topup", {
      token: s.accessToken,
      body: { amount: "1000" },
    });
    expect(topup.status).toBe(403);
    expect((await call(dev, "GET", "https://paid-inbox.someone.workers.dev/v1/dev/outbox")).status).toBe(404);
    // On a loopback host (npm start) both work.
    const local = await call(dev, "POST", "http://localhost:8787/v1/payments/topup", {
      token: s.accessToken,
      body: { amount: "1000" },
    });
    expect(local.status).toBe(200);
    expect((await call(dev, "GET", "http://127.0.0.1:8787/v1/dev/outbox")).status).toBe(200);
  });

  it("uses the production lookup limit when the variable is unset", async () => {
    const vars = { ...STAGING, LOOKUP_IP_PER_MINUTE: "", LOOKUP_USER_PER_MINUTE: "", PHONE_LOOKUP_USER_DAILY_CAP: "" };
    const ip = uniqueIp();
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) {
      const r = await call(vars, "POST", "https://paidinbox.example/v1/recipients/lookup", {
        body: { phone: uniquePhone() },
        headers: { "cf-connecting-ip": ip },
      });
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(404));
    expect(statuses.slice(30)).toEqual([429, 429]);
  });

  it("refuses a MAX_PRICE beyond what the registry can hold", async () => {
    const res = await call({ MAX_PRICE: `${2n ** 96n}` }, "GET", "http://127.0.0.1:8787/health");
    expect(res.status).toBe(503);
    expect(res.body.error).toBe("misconfigured");
  });
});
