#!/usr/bin/env node
// `npm run bench:ops`: the cost of the audit hash chain and the abuse checks on
// the send path, measured in one run. Two disposable `wrangler dev` servers run
// side by side — checks ON (the default) on BENCH_PORT and OFF (AUDIT_CHAIN=off,
// ABUSE_CHECKS=off) on BENCH_PORT_B — and the same send load (BENCH_CONNECTIONS
// connections) alternates between them in short slices (BENCH_CYCLES ×
// BENCH_SLICE_SECONDS each, order swapped every cycle), so whatever else the
// machine is doing hits both alike. GET /health is sliced the same way, giving
// each configuration the bench's usual sends/health ratio.
// Last line: ON / OFF (target ≥ 0.95).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const PORT = process.env.BENCH_PORT ?? "8790";
const PORT_B = process.env.BENCH_PORT_B ?? String(Number(PORT) + 1);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 6);
const SLICE = Number(process.env.BENCH_SLICE_SECONDS ?? 4);
const SENDERS = 40;
const RECIPIENTS = 10;
const wrangler = "node_modules/.bin/wrangler";
let BASE = "";

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

const up = (base) =>
  fetch(`${base}/health`)
    .then((r) => r.ok)
    .catch(() => false);

async function startServer(port, vars) {
  const base = `http://127.0.0.1:${port}`;
  const state = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "paid-inbox-bench-ops-"));
  execFileSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { stdio: "ignore" });
  const args = ["dev", "--ip", "127.0.0.1", "--port", port, "--persist-to", state];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawn(wrangler, args, { stdio: "ignore", detached: true });
  // Up to 3 minutes: wrangler dev starts slowly on a loaded machine.
  for (let i = 0; i < 360 && !(await up(base)); i++) await new Promise((r) => setTimeout(r, 500));
  if (!(await up(base))) throw new Error(`the bench server on ${port} did not come up`);
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

const load = (base, requests, duration) => autocannon({ url: base, connections: CONNECTIONS, duration, requests });

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

/** A server with funded senders and recipients, warmed up (every Account loaded, first contacts made). */
async function prepare(label, port, vars) {
  const stop = await startServer(port, vars);
  BASE = `http://127.0.0.1:${port}`;
  const senders = [];
  for (let i = 0; i < SENDERS; i++) senders.push(await user("bo", null));
  const recipients = [];
  for (let i = 0; i < RECIPIENTS; i++) recipients.push(await user("bor", "1000"));
  await load(BASE, sends(senders, recipients), 3);
  await load(BASE, [{ method: "GET", path: "/health" }], 2);
  return { label, base: BASE, stop, send: sends(senders, recipients), ok: 0, secs: 0, health: 0, hsecs: 0, lat: [] };
}

if (!existsSync("frontend/dist/index.html")) {
  execFileSync("node_modules/.bin/vite", ["build", "--config", "frontend/vite.config.ts", "--logLevel", "warn"]);
}
if (!existsSync(".dev.vars")) (await import("./dev-vars.mjs")).ensureDevVars();
const on = await prepare("checks ON", PORT, {});
let off;
try {
  off = await prepare("checks OFF", PORT_B, { AUDIT_CHAIN: "off", ABUSE_CHECKS: "off" });
  for (let c = 0; c < CYCLES; c++) {
    for (const s of c % 2 === 0 ? [on, off] : [off, on]) {
      const r = await load(s.base, s.send, SLICE);
      s.ok += r["2xx"];
      s.secs += r.duration;
      s.lat.push(r.latency.p99);
      const h = await load(s.base, [{ method: "GET", path: "/health" }], Math.max(1, SLICE / 2));
      s.health += h["2xx"];
      s.hsecs += h.duration;
    }
  }
} finally {
  on.stop();
  off?.stop();
}
const row = (s) => ({
  config: s.label,
  "sends/s": Math.round(s.ok / s.secs),
  "health/s": Math.round(s.health / s.hsecs),
  "sends/health": (s.ok / s.secs / (s.health / s.hsecs)).toFixed(3),
  "worst slice p99 ms": Math.max(...s.lat),
});
const [a, b] = [row(on), row(off)];
console.table([a, b]);
console.log(`bench ratio (sends/health): checks ON ${a["sends/health"]}, checks OFF ${b["sends/health"]}`);
console.log(
  `sends/s: checks ON ${a["sends/s"]}, checks OFF ${b["sends/s"]} (${CYCLES} interleaved slices of ${SLICE} s each)`,
);
console.log(`ratio ON/OFF (sends/s): ${(a["sends/s"] / b["sends/s"]).toFixed(3)}`);
console.log(
  `ratio ON/OFF (sends/health): ${(Number(a["sends/health"]) / Number(b["sends/health"])).toFixed(3)}  (target ≥ 0.95)`,
);
