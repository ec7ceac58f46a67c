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
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { call as callAt, ensureBuilt, health, load as loadAt, sends, startServer, user } from "./bench-common.mjs";

const PORT = Number(process.env.BENCH_PORT ?? 8790);
const ROUND_SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const SENDERS = 40;
const RECIPIENTS = 10;
const PRICE = "1000";
const TG_SECRET = `bench-${randomBytes(12).toString("hex")}`;
let BASE;
const call = (method, path, opts) => callAt(BASE, method, path, opts);

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

/** The providers all point at the dead fake; production retry schedule. */
const railVars = (providerUrl) => ({
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
});

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

const load = (requests, opts) => loadAt(BASE, requests, { duration: ROUND_SECONDS, ...opts });
const pick = (xs) => () => xs[Math.floor(Math.random() * xs.length)].handle;

await ensureBuilt();
const provider = await downProvider();
const server = await startServer(PORT, railVars(provider.url));
BASE = server.base;
let CONSENT;
try {
  console.log(`server ${BASE} (disposable); every provider answers 500 at ${provider.url}`);
  console.log(`preparing ${SENDERS} senders, ${RECIPIENTS} plain recipients, ${RECIPIENTS} with 3 channels each …`);
  const senders = [];
  for (let i = 0; i < SENDERS; i++) senders.push(await user(BASE, "rs"));
  const plain = [];
  const railed = [];
  for (let i = 0; i < RECIPIENTS; i++) plain.push(await user(BASE, "rp", PRICE));
  for (let i = 0; i < RECIPIENTS; i++) {
    const r = await user(BASE, "rc", PRICE);
    // The consent text version the server asks for (worker/notify/consent.ts).
    CONSENT ??= (await call("GET", "/v1/channels", { token: r.token })).consentVersion;
    await connectThree(r, provider.url, i);
    railed.push(r);
  }

  // Warm-up: every Account loaded, the consumer already retrying against the dead providers.
  await load(sends(senders, pick([...plain, ...railed])), { duration: 3 });
  const healthRun = await load(health);

  const totals = { plain: { ok: 0, s: 0, p99: [] }, railed: { ok: 0, s: 0, p99: [] } };
  const order = ["plain", "railed", "railed", "plain", "plain", "railed", "railed", "plain"];
  for (const group of order) {
    const r = await load(sends(senders, pick(group === "plain" ? plain : railed)));
    totals[group].ok += r["2xx"];
    totals[group].s += r.duration;
    totals[group].p99.push(r.latency.p99);
    console.log(
      `  ${group.padEnd(6)} ${Math.round(r["2xx"] / r.duration)} sends/s  p99 ${r.latency.p99} ms  non-2xx ${r.non2xx}`,
    );
  }
  const rate = (g) => totals[g].ok / totals[g].s;
  const healthRate = healthRun["2xx"] / healthRun.duration;
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
