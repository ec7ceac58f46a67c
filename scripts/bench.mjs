#!/usr/bin/env node
// `npm run bench`: send-path throughput against the local dev server.
// Uses a running app on $BENCH_URL (default http://127.0.0.1:8787) or starts
// `npm start` itself. Prints, measured in one run:
//   1. GET /health and POST /v1/messages (20 connections): req/s, p50, p99, non-2xx
//   2. the same send load against a recipient already holding 10,000 messages,
//      and GET /v1/inbox pages for that recipient vs a fresh one
//   3. RSS of the server processes under load
//   4. last line: ratio (successful sends/s) / (health req/s)
import { execSync, spawn } from "node:child_process";
import autocannon from "autocannon";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const BASE = process.env.BENCH_URL ?? "http://127.0.0.1:8787";
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SENDERS = 40;
const RECIPIENTS = 10;
const PRELOAD = Number(process.env.BENCH_PRELOAD ?? 10_000);
const PRICE = "1000"; // 0.001 USDC, so a faucet top-up funds every send of the run

async function call(method, path, { token, body, headers = {} } = {}) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: {
      ...(body ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function up() {
  try {
    return (await fetch(`${BASE}/health`)).ok;
  } catch {
    return false;
  }
}

async function ensureServer() {
  if (await up()) return null;
  console.log(`starting the app (npm start) for ${BASE} …`);
  const port = new URL(BASE).port || "8787";
  const child = spawn("npm", ["start"], { env: { ...process.env, PORT: port }, stdio: "ignore", detached: true });
  for (let i = 0; i < 120 && !(await up()); i++) await new Promise((r) => setTimeout(r, 500));
  if (!(await up())) throw new Error("the app did not come up");
  return child;
}

let seq = 0;
async function user(prefix) {
  const account = privateKeyToAccount(generatePrivateKey());
  const { message } = await call("POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
  const signature = await account.signMessage({ message });
  const s = await call("POST", "/v1/auth/siwe/verify", { body: { message, signature } });
  const handle = `${prefix}_${Date.now().toString(36)}_${(seq++).toString(36)}`.slice(0, 30);
  await call("PUT", "/v1/me/profile", { token: s.accessToken, body: { handle } });
  return { token: s.accessToken, handle };
}

async function recipient(prefix) {
  const r = await user(prefix);
  await call("PUT", "/v1/me/pricing", {
    token: r.token,
    body: { defaultPrice: PRICE, firstContactPrice: PRICE, returnDiscountBps: 0, settlement: "instant" },
  });
  return r;
}

function run(title, opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url: BASE, connections: CONNECTIONS, duration: DURATION, ...opts }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
    void instance;
    void title;
  });
}

function summarize(title, r) {
  const ok = r["2xx"];
  const seconds = r.duration;
  return {
    title,
    "req/s": Math.round(r.requests.average),
    "2xx/s": Math.round(ok / seconds),
    "p50 ms": r.latency.p50,
    "p99 ms": r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

function sendRequests(senders, pickRecipient) {
  return [
    {
      method: "POST",
      path: "/v1/messages",
      setupRequest: (req) => {
        const s = senders[Math.floor(Math.random() * senders.length)];
        return {
          ...req,
          headers: { "content-type": "application/json", authorization: `Bearer ${s.token}` },
          body: JSON.stringify({ to: pickRecipient(), body: "benchmark message: hello there" }),
        };
      },
    },
  ];
}

function rssOfServer() {
  try {
    const out = execSync("ps -eo rss,args", { encoding: "utf8" });
    let kb = 0;
    for (const line of out.split("\n"))
      if (/workerd|wrangler/.test(line) && !/ps -eo/.test(line)) kb += Number.parseInt(line, 10) || 0;
    return `${Math.round(kb / 1024)} MiB`;
  } catch {
    return "n/a";
  }
}

const child = await ensureServer();
try {
  console.log(`preparing ${SENDERS} funded senders and ${RECIPIENTS} recipients …`);
  const senders = [];
  for (let i = 0; i < SENDERS; i++) {
    const s = await user("bs");
    await call("POST", "/v1/payments/topup", { token: s.token, body: { amount: "1000000000" } });
    senders.push(s);
  }
  const recipients = [];
  for (let i = 0; i < RECIPIENTS; i++) recipients.push(await recipient("br"));

  const rows = [];
  rows.push(summarize("GET /health", await run("health", { requests: [{ method: "GET", path: "/health" }] })));
  let rss = "";
  const sendRun = run("send", {
    requests: sendRequests(senders, () => recipients[Math.floor(Math.random() * recipients.length)].handle),
  });
  setTimeout(
    () => {
      rss = rssOfServer();
    },
    (DURATION * 1000) / 2,
  );
  const send = summarize("POST /v1/messages", await sendRun);
  rows.push(send);

  // A recipient that already holds PRELOAD messages.
  console.log(`preloading ${PRELOAD} messages into one inbox …`);
  const big = await recipient("big");
  const fresh = await recipient("fresh");
  await run("preload", { amount: PRELOAD, requests: sendRequests(senders, () => big.handle) });
  const bigMe = await call("GET", "/v1/inbox?limit=1", { token: big.token });
  void bigMe;
  const sendBig = summarize(
    `POST /v1/messages → inbox of ${PRELOAD}`,
    await run("sendBig", {
      requests: sendRequests(senders, () => big.handle),
    }),
  );
  rows.push(sendBig);
  const pageFresh = summarize(
    "GET /v1/inbox (fresh inbox)",
    await run("pageFresh", {
      requests: [{ method: "GET", path: "/v1/inbox?limit=50", headers: { authorization: `Bearer ${fresh.token}` } }],
    }),
  );
  const pageBig = summarize(
    `GET /v1/inbox (inbox of ${PRELOAD}+)`,
    await run("pageBig", {
      requests: [{ method: "GET", path: "/v1/inbox?limit=50", headers: { authorization: `Bearer ${big.token}` } }],
    }),
  );
  rows.push(pageFresh, pageBig);

  console.table(rows);
  const health = rows[0];
  console.log(`server RSS under send load (workerd + wrangler): ${rss}`);
  console.log(`send rate, inbox of ${PRELOAD} vs fresh recipients: ${(sendBig["2xx/s"] / send["2xx/s"]).toFixed(2)}`);
  console.log(`inbox page rate, inbox of ${PRELOAD} vs fresh: ${(pageBig["2xx/s"] / pageFresh["2xx/s"]).toFixed(2)}`);
  console.log(
    `send p99 ${send["p99 ms"]} ms at ${CONNECTIONS} connections; non-2xx from funded senders: ${send.non2xx + sendBig.non2xx}`,
  );
  console.log(`ratio (successful sends/s) / (health req/s): ${(send["2xx/s"] / health["2xx/s"]).toFixed(2)}`);
} finally {
  if (child) process.kill(-child.pid, "SIGTERM");
}
