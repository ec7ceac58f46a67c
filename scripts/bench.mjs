#!/usr/bin/env node
// `npm run bench`: send-path throughput on the local dev server (wrangler dev).
//
// By default it starts its own `wrangler dev` on 127.0.0.1:$BENCH_PORT (8790)
// with a throwaway state directory — on tmpfs (/dev/shm) when there is one — so
// benchmark users and messages never land in your `npm start` database, and so
// the numbers are not dominated by local SQLite fsyncing every Durable Object
// commit on workerd's one thread (production storage does not do that). Set
// BENCH_URL to measure an app you started yourself instead (e.g. npm start).
// Server start, users and warm-up are shared with bench:ops (bench-common.mjs).
//
// Printed, measured in one run after a warm-up:
//   1. BENCH_ROUNDS interleaved rounds of POST /v1/messages and GET /health
//      (BENCH_ROUND_SECONDS each, order alternating), each round printed with
//      its sends/health ratio; the figure is the median over rounds
//   2. the same send load against a recipient that already holds 10,000 messages,
//      and GET /v1/inbox pages for that recipient vs a fresh one
//   3. RSS of the server processes under send load
//   4. what one send cost, from the R2 archive after the run: flush batches
//      (= queue messages = R2 writes ≥ D1 totals writes) per delivered message;
//      written with the throughput figures to .bench/send-costs.json, which
//      `npm run sim:scale` reads (docs/scaling.md)
//   5. with BENCH_BASELINE_REF=<git ref> (e.g. 3f39d17, main before #13): that
//      checkout (git archive into a temp dir) on BENCH_PORT_B, prepared the same
//      way, and interleaved rounds of both: this build's sends/health over the
//      baseline's, per round and median ("not lower than before, same run")
//   6. last line: median ratio (successful sends/s) / (health req/s)
import { execSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import {
  call as callAt,
  ensureBuilt,
  health,
  load as loadAt,
  median,
  population,
  rounds,
  sends,
  startServer as startAt,
  user as userAt,
} from "./bench-common.mjs";

const PORT = process.env.BENCH_PORT ?? "8790";
const BASE = process.env.BENCH_URL ?? `http://127.0.0.1:${PORT}`;
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const PRELOAD = Number(process.env.BENCH_PRELOAD ?? 10_000);
const SENDERS = 40;
const RECIPIENTS = 10;
const PRICE = "1000"; // 0.001 USDC, so one faucet top-up funds every send of the run
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 3);
const PORT_B = Number(process.env.BENCH_PORT_B ?? Number(PORT) + 1);

const call = (method, path, opts) => callAt(BASE, method, path, opts);
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

const recipient = (prefix) => userAt(BASE, prefix, PRICE);
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

/** The checkout at `ref` (git archive, no worktree) served on PORT_B with this checkout's node_modules and web UI. */
async function startBaseline(ref) {
  const dir = mkdtempSync(join(tmpdir(), "paid-inbox-baseline-"));
  execSync(`git archive ${JSON.stringify(ref)} | tar -x -C ${JSON.stringify(dir)}`);
  symlinkSync(join(process.cwd(), "node_modules"), join(dir, "node_modules"));
  cpSync(".dev.vars", join(dir, ".dev.vars"));
  cpSync("frontend/dist", join(dir, "frontend/dist"), { recursive: true });
  const srv = await startAt(PORT_B, {}, { cwd: dir });
  return {
    ...srv,
    async stop() {
      await srv.stop();
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    },
  };
}

const fix = (x) => +x.toFixed(3);

await ensureBuilt();
const server = process.env.BENCH_URL ? null : await startAt(PORT);
let baseline = null;
try {
  console.log(`server ${BASE}${server ? " (disposable, started by the bench)" : ""}`);
  console.log(`preparing ${SENDERS} funded senders and ${RECIPIENTS} recipients, warm-up …`);
  const pop = await population(BASE, { senders: SENDERS, recipients: RECIPIENTS, price: PRICE });
  const { senders, recipients } = pop;

  // 1. Interleaved rounds: sends and health back to back, order alternating.
  const own = [
    { label: "sends", run: () => loadAt(BASE, pop.send, { duration: ROUND_SECONDS }) },
    { label: "health", run: () => loadAt(BASE, health, { duration: ROUND_SECONDS }) },
  ];
  await rounds(own, 1); // unmeasured
  const measured = await rounds(own, ROUNDS, {
    onRound: (i, r) =>
      console.log(
        `round ${String(i + 1).padStart(2)}: sends ${r.sends.toFixed(0)}/s, health ${r.health.toFixed(0)}/s, ratio ${(r.sends / r.health).toFixed(3)}`,
      ),
  });
  const benchRatio = median(measured.map((r) => r.sends / r.health));

  // 5. Against a baseline build, same run — before the preload, so both servers hold the same history.
  const ref = process.env.BENCH_BASELINE_REF;
  if (ref && !process.env.BENCH_URL) {
    console.log(`baseline ${ref} on port ${PORT_B}: starting, preparing, warm-up …`);
    baseline = await startBaseline(ref);
    const popB = await population(baseline.base, { senders: SENDERS, recipients: RECIPIENTS, price: PRICE });
    const arms = [
      { label: "this sends", run: () => loadAt(BASE, pop.send, { duration: ROUND_SECONDS }) },
      { label: "base sends", run: () => loadAt(baseline.base, popB.send, { duration: ROUND_SECONDS }) },
      { label: "this health", run: () => loadAt(BASE, health, { duration: ROUND_SECONDS }) },
      { label: "base health", run: () => loadAt(baseline.base, health, { duration: ROUND_SECONDS }) },
    ];
    await rounds(arms, 1); // unmeasured
    const ab = await rounds(arms, ROUNDS, {
      onRound: (i, r) =>
        console.log(
          JSON.stringify({
            round: i + 1,
            "this sends/health": fix(r["this sends"] / r["this health"]),
            "base sends/health": fix(r["base sends"] / r["base health"]),
            "this/base sends": fix(r["this sends"] / r["base sends"]),
            "this/base ratio": fix(r["this sends"] / r["this health"] / (r["base sends"] / r["base health"])),
          }),
        ),
    });
    console.log(
      `vs ${ref}, median of ${ROUNDS} interleaved rounds: sends/s this/base ${median(ab.map((r) => r["this sends"] / r["base sends"])).toFixed(3)}, ` +
        `(sends/health) this/base ${median(ab.map((r) => r["this sends"] / r["this health"] / (r["base sends"] / r["base health"]))).toFixed(3)} (target ≥ 1.0 within noise)`,
    );
  }
  // One full-length send load for latency percentiles and RSS.
  const rows = [];
  rows.push(row("GET /health", await load({ requests: health })));
  let rss = "";
  const timer = setTimeout(
    () => {
      rss = serverRss(server?.pid);
    },
    (DURATION * 1000) / 2,
  );
  const send = row("POST /v1/messages", await load({ requests: pop.send }));
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

  console.log(
    `ratio (successful sends/s) / (health req/s), median of ${ROUNDS} interleaved rounds of ${ROUND_SECONDS} s: ${benchRatio.toFixed(3)}`,
  );
} finally {
  await server?.stop();
  await baseline?.stop();
}
