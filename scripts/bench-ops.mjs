#!/usr/bin/env node
// `npm run bench:ops`: the cost of the audit hash chain and the abuse checks on
// the send path, measured in one run. The same send load (BENCH_CONNECTIONS
// connections for BENCH_SECONDS) runs against a disposable `wrangler dev` with
// the checks ON (the default) and one with them OFF (AUDIT_CHAIN=off,
// ABUSE_CHECKS=off), alternating ON/OFF for BENCH_ROUNDS rounds so drift on a
// shared machine hits both alike. Each round also measures GET /health on the
// same server, so each configuration has the bench's usual sends/health ratio.
// Last line: ON / OFF (target ≥ 0.95).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const PORT = process.env.BENCH_PORT ?? "8790";
const BASE = `http://127.0.0.1:${PORT}`;
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SENDERS = 40;
const RECIPIENTS = 10;
const wrangler = "node_modules/.bin/wrangler";

async function call(method, path, { token, body } = {}) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: {
      ...(body ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const up = () =>
  fetch(`${BASE}/health`)
    .then((r) => r.ok)
    .catch(() => false);

async function startServer(vars) {
  const state = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "paid-inbox-bench-ops-"));
  execFileSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { stdio: "ignore" });
  const args = ["dev", "--ip", "127.0.0.1", "--port", PORT, "--persist-to", state];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawn(wrangler, args, { stdio: "ignore", detached: true });
  for (let i = 0; i < 120 && !(await up()); i++) await new Promise((r) => setTimeout(r, 500));
  if (!(await up())) throw new Error("the bench server did not come up");
  return () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    rmSync(state, { recursive: true, force: true });
  };
}

let seq = 0;
async function user(prefix, price) {
  const account = privateKeyToAccount(generatePrivateKey());
  const { message } = await call("POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
  const s = await call("POST", "/v1/auth/siwe/verify", {
    body: { message, signature: await account.signMessage({ message }) },
  });
  const handle = `${prefix}_${Date.now().toString(36)}_${(seq++).toString(36)}`.slice(0, 30);
  await call("PUT", "/v1/me/profile", { token: s.accessToken, body: { handle } });
  if (price) {
    await call("PUT", "/v1/me/pricing", {
      token: s.accessToken,
      body: { defaultPrice: price, firstContactPrice: price, returnDiscountBps: 0, settlement: "instant" },
    });
  } else {
    await call("POST", "/v1/payments/topup", { token: s.accessToken, body: { amount: "1000000000" } });
  }
  return { token: s.accessToken, handle };
}

const load = (requests, duration = DURATION) => autocannon({ url: BASE, connections: CONNECTIONS, duration, requests });

function sends(senders, recipients) {
  return [
    {
      method: "POST",
      path: "/v1/messages",
      setupRequest: (req) => {
        const s = senders[Math.floor(Math.random() * senders.length)];
        const r = recipients[Math.floor(Math.random() * recipients.length)];
        return {
          ...req,
          headers: { "content-type": "application/json", authorization: `Bearer ${s.token}` },
          body: JSON.stringify({ to: r.handle, body: "benchmark message: hello there" }),
        };
      },
    },
  ];
}

async function round(label, vars) {
  const stop = await startServer(vars);
  try {
    const senders = [];
    for (let i = 0; i < SENDERS; i++) senders.push(await user("bo", null));
    const recipients = [];
    for (let i = 0; i < RECIPIENTS; i++) recipients.push(await user("bor", "1000"));
    await load(sends(senders, recipients), 3); // warm-up: every Account loaded, first contacts made
    await load([{ method: "GET", path: "/health" }], 2);
    const health = await load([{ method: "GET", path: "/health" }]);
    const send = await load(sends(senders, recipients));
    const r = {
      config: label,
      "health/s": Math.round(health["2xx"] / health.duration),
      "sends/s": Math.round(send["2xx"] / send.duration),
      "send p50 ms": send.latency.p50,
      "send p99 ms": send.latency.p99,
      non2xx: send.non2xx + send.errors,
    };
    r["sends/health"] = (r["sends/s"] / r["health/s"]).toFixed(3);
    console.log(JSON.stringify(r));
    return r;
  } finally {
    stop();
  }
}

if (!existsSync("frontend/dist/index.html")) {
  execFileSync("node_modules/.bin/vite", ["build", "--config", "frontend/vite.config.ts", "--logLevel", "warn"]);
}
if (!existsSync(".dev.vars")) (await import("./dev-vars.mjs")).ensureDevVars();
const rows = [];
for (let i = 0; i < ROUNDS; i++) {
  rows.push(await round("checks ON", {}));
  rows.push(await round("checks OFF", { AUDIT_CHAIN: "off", ABUSE_CHECKS: "off" }));
}
console.table(rows);
const mean = (label, key) => {
  const xs = rows.filter((r) => r.config === label).map((r) => Number(r[key]));
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
const on = mean("checks ON", "sends/s");
const off = mean("checks OFF", "sends/s");
const onRatio = mean("checks ON", "sends/health");
const offRatio = mean("checks OFF", "sends/health");
console.log(`bench ratio (sends/health): checks ON ${onRatio.toFixed(3)}, checks OFF ${offRatio.toFixed(3)}`);
console.log(`sends/s: checks ON ${on.toFixed(0)}, checks OFF ${off.toFixed(0)} (mean of ${ROUNDS} rounds each)`);
console.log(`ratio ON/OFF (sends/health): ${(onRatio / offRatio).toFixed(3)}  (target ≥ 0.95)`);
