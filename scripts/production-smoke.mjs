#!/usr/bin/env node
// A production-mode instance started the documented way (`wrangler dev --env
// production`, what `npm run start:production` runs) on a free port with a
// throwaway state directory, probed over real HTTP:
//   1. as configured ([env.production]: chain ledger): no faucet, no dev routes,
//      production lookup limits, security headers on the API and the static UI;
//   2. with LEDGER_MODE=simulated: every request 503 misconfigured;
//   3. with LEDGER_MODE=simulated and ALLOW_SIMULATED_LEDGER=true (staging): it
//      serves, still without a faucet, and the production send limit stops a
//      zero-balance sender after 10 attempts.
// Exits non-zero on any mismatch.
import assert from "node:assert/strict";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ensureDevVars } from "./dev-vars.mjs";
import { startWranglerDev } from "./wrangler-dev.mjs";

ensureDevVars(); // secrets for wrangler dev (production takes them from `wrangler secret put`)

async function instance(vars = {}) {
  // Each on its own throwaway state; step 2's instance answers every request 503 by design.
  const { base, stop } = await startWranglerDev({
    env: "production",
    vars,
    prefix: "paid-inbox-prod-",
    anyAnswer: true,
  });
  const call = async (method, p, { body, token, headers = {} } = {}) => {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) h["content-type"] = "application/json";
    const res = await fetch(`${base}${p}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, body: json };
  };
  return { call, stop };
}

async function signIn(call, handle) {
  const account = privateKeyToAccount(generatePrivateKey());
  const ch = await call("POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
  assert.equal(ch.status, 200, "siwe challenge");
  const signature = await account.signMessage({ message: ch.body.message });
  const v = await call("POST", "/v1/auth/siwe/verify", { body: { message: ch.body.message, signature } });
  assert.equal(v.status, 200, "siwe verify");
  if (handle)
    assert.equal((await call("PUT", "/v1/me/profile", { token: v.body.accessToken, body: { handle } })).status, 200);
  return v.body.accessToken;
}

let failed = false;
async function step(name, vars, body) {
  const app = await instance(vars);
  try {
    await body(app.call);
    console.log(`✓ ${name}`);
  } catch (err) {
    failed = true;
    console.error(`✗ ${name}: ${err.message}`);
  } finally {
    await app.stop();
  }
}

await step("production as configured: no faucet, no dev routes, production limits, headers", {}, async (call) => {
  const health = await call("GET", "/health");
  assert.equal(health.status, 200);
  assert.equal(health.body.mode, "chain");
  assert.equal((await call("GET", "/v1/dev/outbox")).status, 404, "dev outbox");
  const token = await signIn(call);
  const topup = await call("POST", "/v1/payments/topup", { token, body: { amount: "1000000000" } });
  assert.equal(topup.status, 409, "topup");
  assert.equal(topup.body.error, "use_onchain_deposit");
  const statuses = [];
  for (let i = 0; i < 32; i++) {
    const phone = `+1555${String(1_000_000 + i).slice(1)}`;
    statuses.push((await call("POST", "/v1/recipients/lookup", { body: { phone } })).status);
  }
  assert.deepEqual(statuses, [...Array(30).fill(404), 429, 429], "30 lookups per IP per minute");
  const csp = health.headers.get("content-security-policy") ?? "";
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal((await call("GET", "/v1/me", { token })).headers.get("cache-control"), "no-store");
  // The static web UI (served without the Worker) gets the same policy from frontend/public/_headers.
  const ui = await call("GET", "/");
  assert.equal(ui.status, 200, "web UI");
  assert.equal(ui.headers.get("content-security-policy"), csp, "web UI CSP");
  assert.equal(ui.headers.get("x-content-type-options"), "nosniff");
});

await step("production with a simulated ledger: 503 misconfigured", { LEDGER_MODE: "simulated" }, async (call) => {
  for (const p of ["/health", "/v1/auth/providers"]) {
    const res = await call("GET", p);
    assert.equal(res.status, 503, p);
    assert.equal(res.body.error, "misconfigured");
  }
});

await step(
  "staging (ALLOW_SIMULATED_LEDGER): serves, no faucet, production send limits",
  { LEDGER_MODE: "simulated", ALLOW_SIMULATED_LEDGER: "true" },
  async (call) => {
    const health = await call("GET", "/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.mode, "simulated");
    const recipient = `smoke_${Date.now().toString(36)}`;
    await signIn(call, recipient);
    const token = await signIn(call);
    const topup = await call("POST", "/v1/payments/topup", { token, body: { amount: "1000" } });
    assert.equal(topup.status, 403, "topup");
    assert.equal(topup.body.error, "faucet_disabled");
    const statuses = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await call("POST", "/v1/messages", { token, body: { to: recipient, body: `try ${i}` } })).status);
    }
    assert.deepEqual(statuses, [...Array(10).fill(402), 429, 429], "10 sends burst per sender");
  },
);
process.exit(failed ? 1 : 0);
