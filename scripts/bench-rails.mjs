#!/usr/bin/env node
// `npm run bench:rails`: do notification rails slow the send path when every
// provider is down? One run, one server (a disposable `wrangler dev` on
// $BENCH_PORT, state on tmpfs, like `npm run bench`), with a local fake
// provider that answers 500 to everything (Telegram Bot API, WhatsApp Cloud API
// and the webhook receiver all point at it), so every notice fails and is
// retried with backoff by the deliveries consumer in the same process.
//
// Two groups of recipients, alike except that each recipient of the second has
// three channels connected (webhook, Telegram, WhatsApp). Sends alternate
// between the groups in A-B-B-A rounds (so drift from other load on the machine
// cancels out), and the figure is the ratio of successful sends/s to the channel
// group over sends/s to the plain group, next to the /health reference that
// `npm run bench` uses: target ≥ 0.95.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const PORT = process.env.BENCH_PORT ?? "8790";
const BASE = `http://127.0.0.1:${PORT}`;
const ROUND_SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SENDERS = 40;
const RECIPIENTS = 10;
const PRICE = "1000";
const TG_SECRET = `bench-${randomBytes(12).toString("hex")}`;
const CONSENT = "2026-11-01";

async function call(method, path, { token, body, headers } = {}) {
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

const up = async () => {
  try {
    return (await fetch(`${BASE}/health`)).ok;
  } catch {
    return false;
  }
};

/** Every provider, down: 500 to anything, counting what it was asked. */
async function downProvider() {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(500, { "content-type": "application/json" });
    res.end('{"ok":false,"error_code":500,"description":"down"}');
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, hits: () => hits, close: () => server.close() };
}

async function startServer(providerUrl) {
  const state = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "paid-inbox-bench-rails-"));
  const wrangler = "node_modules/.bin/wrangler";
  if (!existsSync("frontend/dist/index.html")) {
    execFileSync("node_modules/.bin/vite", ["build", "--config", "frontend/vite.config.ts", "--logLevel", "warn"]);
  }
  if (!existsSync(".dev.vars")) (await import("./dev-vars.mjs")).ensureDevVars();
  execFileSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { stdio: "ignore" });
  const vars = {
    TELEGRAM_API_URL: providerUrl,
    TELEGRAM_BOT_TOKEN: "bench-token",
    TELEGRAM_BOT_USERNAME: "BenchBot",
    TELEGRAM_WEBHOOK_SECRET: TG_SECRET,
    WHATSAPP_API_URL: providerUrl,
    WHATSAPP_TOKEN: "bench-token",
    WHATSAPP_PHONE_NUMBER_ID: "1",
    WHATSAPP_APP_SECRET: "bench-app-secret",
    WHATSAPP_VERIFY_TOKEN: "bench-verify",
    // The production retry schedule (wrangler.toml's development base of 1 s exists to make retries
    // visible locally; production retries a dead provider after 30 s, 60 s, … up to an hour).
    NOTIFY_BACKOFF_BASE_SECONDS: process.env.NOTIFY_BACKOFF_BASE_SECONDS ?? "30",
    NOTIFY_BACKOFF_MAX_SECONDS: process.env.NOTIFY_BACKOFF_MAX_SECONDS ?? "3600",
  };
  const args = ["dev", "--ip", "127.0.0.1", "--port", PORT, "--persist-to", state];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawn(wrangler, args, { stdio: "ignore", detached: true });
  for (let i = 0; i < 120 && !(await up()); i++) await new Promise((r) => setTimeout(r, 500));
  if (!(await up())) throw new Error("the bench server did not come up");
  const exited = new Promise((r) => child.once("exit", r));
  return {
    async stop() {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      // Let workerd finish writing before its state directory goes.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      rmSync(state, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
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
  await call("PUT", "/v1/me/pricing", {
    token: s.accessToken,
    body: { defaultPrice: PRICE, firstContactPrice: PRICE, returnDiscountBps: 0, settlement: "instant" },
  });
  return { token: s.accessToken, handle };
}

/** webhook + Telegram (deep link, then our own /start) + WhatsApp (phone verified through the dev outbox). */
async function connectThree(r, providerUrl, n) {
  await call("POST", "/v1/channels/webhook/connect", {
    token: r.token,
    body: { consentVersion: CONSENT, url: `${providerUrl}/hooks/${n}` },
  });
  const tg = await call("POST", "/v1/channels/telegram/connect", { token: r.token, body: { consentVersion: CONSENT } });
  const start = new URL(tg.connectUrl).searchParams.get("start");
  await call("POST", "/webhooks/telegram", {
    headers: { "x-telegram-bot-api-secret-token": TG_SECRET },
    body: { message: { chat: { id: 9_000_000 + n }, text: `/start ${start}` } },
  });
  const phone = `+1555${String(1_000_000 + n * 7919).slice(-7)}${n % 10}`;
  const { verificationId } = await call("POST", "/v1/verify/request", {
    token: r.token,
    body: { channel: "phone", target: phone },
    headers: { "cf-connecting-ip": `198.18.0.${n + 1}` },
  });
  const outbox = await call("GET", `/v1/dev/outbox?to=${encodeURIComponent(phone)}`);
  const code = outbox.items[0].text.match(/\b(\d{6})\b/)[1];
  await call("POST", "/v1/verify/confirm", { token: r.token, body: { verificationId, code } });
  await call("POST", "/v1/channels/whatsapp/connect", { token: r.token, body: { consentVersion: CONSENT } });
  const { channels } = await call("GET", "/v1/channels", { token: r.token });
  const connected = channels.filter((c) => c.status === "connected").length;
  if (connected !== 3) throw new Error(`expected 3 connected channels, got ${connected}`);
}

function sends(senders, recipients) {
  return [
    {
      method: "POST",
      path: "/v1/messages",
      setupRequest: (req) => ({
        ...req,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${senders[Math.floor(Math.random() * senders.length)].token}`,
        },
        body: JSON.stringify({
          to: recipients[Math.floor(Math.random() * recipients.length)].handle,
          body: "benchmark message: hello there",
        }),
      }),
    },
  ];
}

const load = (opts) => autocannon({ url: BASE, connections: CONNECTIONS, duration: ROUND_SECONDS, ...opts });

const provider = await downProvider();
const server = await startServer(provider.url);
try {
  console.log(`server ${BASE} (disposable); every provider answers 500 at ${provider.url}`);
  console.log(`preparing ${SENDERS} senders, ${RECIPIENTS} plain recipients, ${RECIPIENTS} with 3 channels each …`);
  const senders = [];
  for (let i = 0; i < SENDERS; i++) {
    const s = await user("rs");
    await call("POST", "/v1/payments/topup", { token: s.token, body: { amount: "1000000000" } });
    senders.push(s);
  }
  const plain = [];
  const railed = [];
  for (let i = 0; i < RECIPIENTS; i++) plain.push(await user("rp"));
  for (let i = 0; i < RECIPIENTS; i++) {
    const r = await user("rc");
    await connectThree(r, provider.url, i);
    railed.push(r);
  }

  // Warm-up: every Account loaded, the consumer already retrying against the dead providers.
  await load({ duration: 3, requests: sends(senders, [...plain, ...railed]) });
  const health = await load({ requests: [{ method: "GET", path: "/health" }] });

  const totals = { plain: { ok: 0, s: 0, p99: [] }, railed: { ok: 0, s: 0, p99: [] } };
  const order = ["plain", "railed", "railed", "plain", "plain", "railed", "railed", "plain"];
  for (const group of order) {
    const r = await load({ requests: sends(senders, group === "plain" ? plain : railed) });
    totals[group].ok += r["2xx"];
    totals[group].s += r.duration;
    totals[group].p99.push(r.latency.p99);
    console.log(
      `  ${group.padEnd(6)} ${Math.round(r["2xx"] / r.duration)} sends/s  p99 ${r.latency.p99} ms  non-2xx ${r.non2xx}`,
    );
  }
  const rate = (g) => totals[g].ok / totals[g].s;
  const healthRate = health["2xx"] / health.duration;
  console.table([
    {
      recipients: "no channels",
      "sends/s": Math.round(rate("plain")),
      "sends/health": (rate("plain") / healthRate).toFixed(3),
      "p99 ms": totals.plain.p99.join(" / "),
    },
    {
      recipients: "3 channels, providers 500",
      "sends/s": Math.round(rate("railed")),
      "sends/health": (rate("railed") / healthRate).toFixed(3),
      "p99 ms": totals.railed.p99.join(" / "),
    },
  ]);
  console.log(`provider requests answered 500 during the run: ${provider.hits()}`);
  const ratio = rate("railed") / rate("plain");
  console.log(
    `ratio (send ratio with 3 failing channels) / (send ratio without channels): ${ratio.toFixed(3)} (target ≥ 0.95)`,
  );
} finally {
  await server.stop();
  provider.close();
}
