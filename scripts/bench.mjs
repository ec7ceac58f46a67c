#!/usr/bin/env node
// `npm run bench`: send-path throughput on the local dev server (wrangler dev).
//
// By default it starts its own `wrangler dev` on 127.0.0.1:$BENCH_PORT (8790)
// with a throwaway state directory — on tmpfs (/dev/shm) when there is one — so
// benchmark users and messages never land in your `npm start` database, and so
// the numbers are not dominated by local SQLite fsyncing every Durable Object
// commit on workerd's one thread (production storage does not do that). Set
// BENCH_URL to measure an app you started yourself instead (e.g. npm start).
//
// Printed, measured in one run after a warm-up:
//   1. GET /health and POST /v1/messages at 20 connections: req/s, p50, p99, non-2xx
//   2. the same send load against a recipient that already holds 10,000 messages,
//      and GET /v1/inbox pages for that recipient vs a fresh one
//   3. RSS of the server processes under send load
//   4. what one send cost, from the R2 archive after the run: flush batches
//      (= queue messages = R2 writes ≥ D1 totals writes) per delivered message;
//      written with the throughput figures to .bench/send-costs.json, which
//      `npm run sim:scale` reads (docs/scaling.md)
//   5. last line: ratio (successful sends/s) / (health req/s)
import { execFileSync, execSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const PORT = process.env.BENCH_PORT ?? "8790";
const BASE = process.env.BENCH_URL ?? `http://127.0.0.1:${PORT}`;
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const PRELOAD = Number(process.env.BENCH_PRELOAD ?? 10_000);
const SENDERS = 40;
const RECIPIENTS = 10;
const PRICE = "1000"; // 0.001 USDC, so one faucet top-up funds every send of the run

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

function adminToken() {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const m = existsSync(".dev.vars") && readFileSync(".dev.vars", "utf8").match(/^ADMIN_TOKEN\s*=\s*"?([^"\n]*)"?/m);
  return m ? m[1] : null;
}

/** Flush batches and message records an Account has in the R2 archive (GET /v1/ops/archive). */
async function archived(userId, token) {
  let cursor = null;
  let batches = 0;
  let messages = 0;
  do {
    const q = new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) });
    const page = await call("GET", `/v1/ops/archive/${userId}?${q}`, { token });
    batches += page.batches.length;
    for (const b of page.batches) messages += b.messages.length;
    cursor = page.nextCursor;
  } while (cursor);
  return { batches, messages };
}

/** Archive totals over these Accounts once they stop growing (the queue has drained). */
async function archiveTotals(users, token) {
  let last = null;
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    const all = await Promise.all(users.map((u) => archived(u.id, token)));
    const now = all.reduce((a, b) => ({ batches: a.batches + b.batches, messages: a.messages + b.messages }));
    if (last && now.batches === last.batches && now.messages === last.messages) return now;
    last = now;
  }
  return last;
}

async function up() {
  try {
    return (await fetch(`${BASE}/health`)).ok;
  } catch {
    return false;
  }
}

/** Starts a disposable wrangler dev for the run; returns a stop function. */
async function startServer() {
  const state = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "paid-inbox-bench-"));
  const wrangler = "node_modules/.bin/wrangler";
  if (!existsSync("frontend/dist/index.html")) {
    execFileSync("node_modules/.bin/vite", ["build", "--config", "frontend/vite.config.ts", "--logLevel", "warn"]);
  }
  if (!existsSync(".dev.vars")) {
    const { ensureDevVars } = await import("./dev-vars.mjs");
    ensureDevVars();
  }
  execFileSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { stdio: "ignore" });
  const child = spawn(wrangler, ["dev", "--ip", "127.0.0.1", "--port", PORT, "--persist-to", state], {
    stdio: "ignore",
    detached: true,
  });
  for (let i = 0; i < 120 && !(await up()); i++) await new Promise((r) => setTimeout(r, 500));
  if (!(await up())) throw new Error("the bench server did not come up");
  return {
    pid: child.pid,
    stop() {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      rmSync(state, { recursive: true, force: true });
    },
  };
}

let seq = 0;
async function user(prefix) {
  const account = privateKeyToAccount(generatePrivateKey());
  const { message } = await call("POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
  const signature = await account.signMessage({ message });
  const s = await call("POST", "/v1/auth/siwe/verify", { body: { message, signature } });
  const handle = `${prefix}_${Date.now().toString(36)}_${(seq++).toString(36)}`.slice(0, 30);
  await call("PUT", "/v1/me/profile", { token: s.accessToken, body: { handle } });
  return { token: s.accessToken, handle, id: s.user.id };
}

async function recipient(prefix) {
  const r = await user(prefix);
  await call("PUT", "/v1/me/pricing", {
    token: r.token,
    body: { defaultPrice: PRICE, firstContactPrice: PRICE, returnDiscountBps: 0, settlement: "instant" },
  });
  return r;
}

const load = (opts) => autocannon({ url: BASE, connections: CONNECTIONS, duration: DURATION, ...opts });

function row(title, r) {
  return {
    title,
    "req/s": Math.round(r.requests.average),
    "2xx/s": Math.round(r["2xx"] / r.duration),
    "p50 ms": r.latency.p50,
    "p97.5 ms": r.latency.p97_5,
    "p99 ms": r.latency.p99,
    "max ms": r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

function sends(senders, to) {
  return [
    {
      method: "POST",
      path: "/v1/messages",
      setupRequest: (req) => {
        const s = senders[Math.floor(Math.random() * senders.length)];
        return {
          ...req,
          headers: { "content-type": "application/json", authorization: `Bearer ${s.token}` },
          body: JSON.stringify({ to: to(), body: "benchmark message: hello there" }),
        };
      },
    },
  ];
}

const inboxPage = (token) => [
  { method: "GET", path: "/v1/inbox?limit=50", headers: { authorization: `Bearer ${token}` } },
];

/** RSS of the server: the bench's own process tree, or every workerd/wrangler process for BENCH_URL. */
function serverRss(rootPid) {
  const procs = execSync("ps -eo pid=,ppid=,rss=,args=", { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .map(([pid, ppid, rss, ...args]) => ({ pid: +pid, ppid: +ppid, rss: +rss, args: args.join(" ") }));
  let members;
  if (rootPid) {
    const tree = new Set([rootPid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of procs) {
        if (tree.has(p.ppid) && !tree.has(p.pid)) {
          tree.add(p.pid);
          grew = true;
        }
      }
    }
    members = procs.filter((p) => tree.has(p.pid));
  } else {
    members = procs.filter((p) => /workerd|wrangler-dist/.test(p.args));
  }
  return `${Math.round(members.reduce((kb, p) => kb + p.rss, 0) / 1024)} MiB in ${members.length} processes`;
}

/**
 * Per-send costs for `npm run sim:scale`. Counted: flush batches per delivered
 * message (each is one queue message, one R2 object, at most one D1 upsert).
 * Structural (from the code, see docs/scaling.md): Durable Object calls and
 * storage commits per send.
 */
async function writeCosts(accounts, { send, health }) {
  const token = adminToken();
  if (!token) return console.log("(no ADMIN_TOKEN: per-send costs not measured)");
  const { batches, messages } = await archiveTotals(accounts, token);
  if (!messages) return console.log("(no archived messages found: per-send costs not measured)");
  const perSend = batches / messages;
  const costs = {
    measuredAt: new Date().toISOString(),
    source: "npm run bench",
    messages,
    batches,
    perSend: {
      doCalls: 3, // Worker → recipient.receive, recipient → sender.debit, Worker → sender.settle
      storageCommits: 2 + 1 + 2 * perSend, // receive + debit + (settle, at worst alone) + freeze/forget per batch
      queueMessages: perSend,
      d1Writes: perSend, // at most one totals upsert per batch (the consumer keeps the newest per Account)
      r2Writes: perSend,
      r2Reads: perSend, // the consumer's head check
    },
    throughput: { sendsPerSecond: send["2xx/s"], healthPerSecond: health["2xx/s"], p99Ms: send["p99 ms"] },
  };
  mkdirSync(".bench", { recursive: true });
  writeFileSync(".bench/send-costs.json", `${JSON.stringify(costs, null, 2)}\n`);
  console.log(
    `per send: ${perSend.toFixed(4)} flush batches (queue messages, R2 writes, ≤ D1 writes) over ${messages} messages → .bench/send-costs.json`,
  );
}

const server = process.env.BENCH_URL ? null : await startServer();
try {
  console.log(`server ${BASE}${server ? " (disposable, started by the bench)" : ""}`);
  console.log(`preparing ${SENDERS} funded senders and ${RECIPIENTS} recipients …`);
  const senders = [];
  for (let i = 0; i < SENDERS; i++) {
    const s = await user("bs");
    await call("POST", "/v1/payments/topup", { token: s.token, body: { amount: "1000000000" } });
    senders.push(s);
  }
  const recipients = [];
  for (let i = 0; i < RECIPIENTS; i++) recipients.push(await recipient("br"));
  const anyRecipient = () => recipients[Math.floor(Math.random() * recipients.length)].handle;

  // Warm-up (not measured): JIT, every Account object created and loaded.
  await load({ duration: 3, requests: sends(senders, anyRecipient) });
  await load({ duration: 2, requests: [{ method: "GET", path: "/health" }] });

  const rows = [];
  rows.push(row("GET /health", await load({ requests: [{ method: "GET", path: "/health" }] })));
  let rss = "";
  const timer = setTimeout(
    () => {
      rss = serverRss(server?.pid);
    },
    (DURATION * 1000) / 2,
  );
  const send = row("POST /v1/messages", await load({ requests: sends(senders, anyRecipient) }));
  clearTimeout(timer);
  rows.push(send);

  console.log(`preloading ${PRELOAD} messages into one inbox …`);
  const big = await recipient("big");
  const fresh = await recipient("fresh");
  await autocannon({
    url: BASE,
    connections: CONNECTIONS,
    amount: PRELOAD,
    requests: sends(senders, () => big.handle),
  });
  const toFresh = row(
    "POST /v1/messages → one fresh inbox",
    await load({ requests: sends(senders, () => fresh.handle) }),
  );
  const toBig = row(
    `POST /v1/messages → inbox of ${PRELOAD}+`,
    await load({ requests: sends(senders, () => big.handle) }),
  );
  const pageFresh = row("GET /v1/inbox → fresh inbox", await load({ requests: inboxPage(fresh.token) }));
  const pageBig = row(`GET /v1/inbox → inbox of ${PRELOAD}+`, await load({ requests: inboxPage(big.token) }));
  rows.push(toFresh, toBig, pageFresh, pageBig);

  console.table(rows);
  const ratio = (a, b) => (a / b).toFixed(2);
  const non2xx = rows.slice(1, 4).reduce((n, r) => n + r.non2xx + r.errors, 0);
  console.log(`server RSS under send load: ${rss}`);
  console.log(`send rate into an inbox of ${PRELOAD}+ vs a fresh inbox: ${ratio(toBig["2xx/s"], toFresh["2xx/s"])}`);
  console.log(`inbox page rate, inbox of ${PRELOAD}+ vs fresh: ${ratio(pageBig["2xx/s"], pageFresh["2xx/s"])}`);
  console.log(
    `send p99: ${send["p99 ms"]} ms at ${CONNECTIONS} connections; non-2xx/errors from funded senders: ${non2xx}`,
  );
  await writeCosts([...senders, ...recipients, big, fresh], { send, health: rows[0] });
  console.log(`ratio (successful sends/s) / (health req/s): ${ratio(send["2xx/s"], rows[0]["2xx/s"])}`);
} finally {
  server?.stop();
}
