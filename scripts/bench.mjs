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
//   5. with BENCH_BASELINE_REF=<git ref> (e.g. 7de6613, main before #13): that
//      checkout (git archive into a temp dir) on BENCH_PORT_B, started and
//      prepared side by side with this one, and BENCH_ROUNDS interleaved rounds
//      of both: per round and as medians with per-round ranges, this build's
//      sends/health over the baseline's ("not lower than before, same run"),
//      raw sends/s, and each server's CPU ms per send — in the send arm, and
//      all-in (its flushes, queue consumer and alarms included wherever they
//      ran). Only these rounds unless BENCH_FULL=1 (1–4 and 6 as well), so a
//      comparison takes about 5 minutes. BENCH_SWAP=1: the baseline gets
//      BENCH_PORT and goes first in every round pair (run it both ways).
//   6. last line: median ratio (successful sends/s) / (health req/s)
// BENCH_PROFILE=1: afterwards, a send load and a /health load on this server
// under the V8 CPU profiler (the inspector on BENCH_INSPECTOR_PORT, default
// BENCH_PORT + 2; BENCH_PROFILE_SECONDS each): .bench/{send,health}.cpuprofile,
// CPU per request by process, top functions (scripts/bench-profile.mjs).
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
import { cpuOf, cpuPerRequest, cpuProfile, processTree, summarise } from "./bench-profile.mjs";

// BENCH_SWAP=1 (with a baseline): the baseline gets BENCH_PORT and the first turn in every round pair.
const SWAP = process.env.BENCH_SWAP === "1" && !!process.env.BENCH_BASELINE_REF && !process.env.BENCH_URL;
const PORT_A = process.env.BENCH_PORT ?? "8790";
const PORT_OTHER = Number(process.env.BENCH_PORT_B ?? Number(PORT_A) + 1);
const PORT = SWAP ? String(PORT_OTHER) : PORT_A;
const PORT_B = SWAP ? Number(PORT_A) : PORT_OTHER;
const BASE = process.env.BENCH_URL ?? `http://127.0.0.1:${PORT}`;
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const PRELOAD = Number(process.env.BENCH_PRELOAD ?? 10_000);
const SENDERS = 40;
const RECIPIENTS = 10;
const PRICE = "1000"; // 0.001 USDC, so one faucet top-up funds every send of the run
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 3);

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
    const tree = processTree(procs, rootPid);
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

/**
 * BENCH_PROFILE=1: a send load and a /health load on this server, each under
 * the V8 CPU profiler (scripts/bench-profile.mjs). Writes
 * .bench/{send,health}.cpuprofile (open in Chrome DevTools → Performance) and
 * prints the server's CPU ms per request by process and the functions with the
 * most self and inclusive time, as µs per request.
 */
async function profileRun(server, sendRequests) {
  const seconds = Number(process.env.BENCH_PROFILE_SECONDS ?? 8);
  mkdirSync(".bench", { recursive: true });
  for (const [name, requests] of [
    ["send", sendRequests],
    ["health", health],
  ]) {
    const before = cpuOf(server.pid);
    const [r, profile] = await cpuProfile(INSPECTOR_PORT, () => loadAt(BASE, requests, { duration: seconds }));
    const cpu = cpuPerRequest(before, cpuOf(server.pid), r["2xx"]);
    writeFileSync(`.bench/${name}.cpuprofile`, JSON.stringify(profile));
    const s = summarise(profile, { requests: r["2xx"], top: Number(process.env.BENCH_PROFILE_TOP ?? 20) });
    console.log(
      `profile of ${name === "send" ? "POST /v1/messages" : "GET /health"} (${seconds} s, ${Math.round(r["2xx"] / r.duration)}/s) → .bench/${name}.cpuprofile; ` +
        `server CPU ms per request: ${
          cpu
            ? Object.entries(cpu)
                .map(([k, v]) => `${k} ${v.toFixed(2)}`)
                .join(", ")
            : "n/a"
        }; ` +
        `the Worker's isolate busy ${Math.round(100 * s.busyShare)}% (${Math.round(s.busyUsPerRequest)} µs wall per request)`,
    );
    console.log("self time:");
    console.table(s.self);
    console.log("inclusive time:");
    console.table(s.inclusive);
  }
}

/** The checkout at `ref` (git archive, no worktree) served on `port` with this checkout's node_modules and web UI. */
async function startBaseline(ref, port) {
  const dir = mkdtempSync(join(tmpdir(), "paid-inbox-baseline-"));
  execSync(`git archive ${JSON.stringify(ref)} | tar -x -C ${JSON.stringify(dir)}`);
  symlinkSync(join(process.cwd(), "node_modules"), join(dir, "node_modules"));
  cpSync(".dev.vars", join(dir, ".dev.vars"));
  cpSync("frontend/dist", join(dir, "frontend/dist"), { recursive: true });
  try {
    const srv = await startAt(port, {}, { cwd: dir });
    return {
      ...srv,
      async stop() {
        await srv.stop();
        rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    throw err;
  }
}

const fix = (x) => +x.toFixed(3);
const range = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
const figure = (xs) => ({ "per-round range": range(xs), median: fix(median(xs)) });

const REF = process.env.BENCH_URL ? null : process.env.BENCH_BASELINE_REF;
// A comparison run measures only the A/B rounds unless BENCH_FULL=1 (keeps it to a few minutes).
const FULL = !REF || process.env.BENCH_FULL === "1";
const PROFILE = process.env.BENCH_PROFILE === "1" && !process.env.BENCH_URL;
const INSPECTOR_PORT = Number(process.env.BENCH_INSPECTOR_PORT ?? Number(PORT_A) + 2);

async function main() {
  await ensureBuilt();
  let server = null;
  let baseline = null;
  try {
    // Both servers start and are prepared side by side (each has its own users and warm-up).
    const started = await Promise.allSettled([
      process.env.BENCH_URL ? null : startAt(PORT, {}, { inspectorPort: PROFILE ? INSPECTOR_PORT : null }),
      REF ? startBaseline(REF, PORT_B) : null,
    ]);
    [server, baseline] = started.map((r) => (r.status === "fulfilled" ? r.value : null));
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    console.log(`server ${BASE}${server ? " (disposable, started by the bench)" : ""}`);
    if (baseline) console.log(`baseline ${REF} on port ${PORT_B}`);
    console.log(`preparing ${SENDERS} funded senders and ${RECIPIENTS} recipients on each server, warm-up …`);
    const [pop, popB] = await Promise.all([
      population(BASE, { senders: SENDERS, recipients: RECIPIENTS, price: PRICE }),
      baseline ? population(baseline.base, { senders: SENDERS, recipients: RECIPIENTS, price: PRICE }) : null,
    ]);
    const { senders, recipients } = pop;

    // 1. Interleaved rounds: sends and health back to back, order alternating.
    let benchRatio = null;
    if (FULL) {
      const own = [
        { label: "sends", pid: server?.pid, run: () => loadAt(BASE, pop.send, { duration: ROUND_SECONDS }) },
        { label: "health", pid: server?.pid, run: () => loadAt(BASE, health, { duration: ROUND_SECONDS }) },
      ];
      await rounds(own, 1); // unmeasured
      const measured = await rounds(own, ROUNDS, {
        onRound: (i, r, cpu) =>
          console.log(
            `round ${String(i + 1).padStart(2)}: sends ${r.sends.toFixed(0)}/s, health ${r.health.toFixed(0)}/s, ratio ${(r.sends / r.health).toFixed(3)}` +
              (cpu.sends
                ? `, server CPU ms per send ${cpu.sends.toFixed(2)}, per health ${cpu.health.toFixed(2)}`
                : ""),
          ),
      });
      benchRatio = median(measured.map((r) => r.sends / r.health));
    }

    // 5. Against a baseline build, same run — before the preload, so both servers hold the same history.
    if (baseline) {
      const arms = [
        { label: "this sends", pid: server.pid, run: () => loadAt(BASE, pop.send, { duration: ROUND_SECONDS }) },
        {
          label: "base sends",
          pid: baseline.pid,
          run: () => loadAt(baseline.base, popB.send, { duration: ROUND_SECONDS }),
        },
        { label: "this health", pid: server.pid, run: () => loadAt(BASE, health, { duration: ROUND_SECONDS }) },
        {
          label: "base health",
          pid: baseline.pid,
          run: () => loadAt(baseline.base, health, { duration: ROUND_SECONDS }),
        },
      ];
      // BENCH_SWAP=1: the baseline goes first in every round pair (a check that order and port do not decide the figure).
      if (SWAP) [arms[0], arms[1], arms[2], arms[3]] = [arms[1], arms[0], arms[3], arms[2]];
      await rounds(arms, 1); // unmeasured
      // All-in CPU per send: a server's whole CPU over a round — its flushes,
      // queue consumer and alarms included, in whichever arm they happen to run —
      // less its /health requests at what one costs with no send work pending.
      // (The per-arm figures charge deferred work to the arm it lands in.)
      await new Promise((r) => setTimeout(r, 7_000)); // pending flushes (≤ 5 s) and their queue batches
      const healthCost = {};
      for (const [label, srv, base] of [
        ["this", server, BASE],
        ["base", baseline, baseline.base],
      ]) {
        const before = cpuOf(srv.pid);
        const r = await loadAt(base, health, { duration: ROUND_SECONDS });
        healthCost[label] = cpuPerRequest(before, cpuOf(srv.pid), r["2xx"])?.total ?? null;
      }
      let atStart = null;
      const allIn = [];
      const sendCost = (label, srv, r) => {
        const used = cpuPerRequest(atStart[label], cpuOf(srv.pid), 1)?.total;
        if (!used || !healthCost[label]) return null;
        return (
          (used - r[`${label} health`] * ROUND_SECONDS * healthCost[label]) / (r[`${label} sends`] * ROUND_SECONDS)
        );
      };
      const ab = await rounds(arms, ROUNDS, {
        onRoundStart: () => {
          atStart = { this: cpuOf(server.pid), base: cpuOf(baseline.pid) };
        },
        onRound: (i, r, cpu) => {
          const all = { this: sendCost("this", server, r), base: sendCost("base", baseline, r) };
          allIn.push(all);
          console.log(
            JSON.stringify({
              round: i + 1,
              "this sends/s": Math.round(r["this sends"]),
              "base sends/s": Math.round(r["base sends"]),
              "this/base sends": fix(r["this sends"] / r["base sends"]),
              "this/base ratio": fix(r["this sends"] / r["this health"] / (r["base sends"] / r["base health"])),
              ...(cpu["this sends"]
                ? {
                    "CPU ms/send this": fix(cpu["this sends"]),
                    "CPU ms/send base": fix(cpu["base sends"]),
                    "CPU ms/health this": fix(cpu["this health"]),
                    "CPU ms/health base": fix(cpu["base health"]),
                  }
                : {}),
              ...(all.this && all.base ? { "all-in CPU ms/send this": fix(all.this), base: fix(all.base) } : {}),
            }),
          );
        },
      });
      const rows = {
        "this sends/health": figure(ab.map((r) => r["this sends"] / r["this health"])),
        "base sends/health": figure(ab.map((r) => r["base sends"] / r["base health"])),
        "this/base (sends/health) ← the issue's figure": figure(
          ab.map((r) => r["this sends"] / r["this health"] / (r["base sends"] / r["base health"])),
        ),
        "this/base sends/s": figure(ab.map((r) => r["this sends"] / r["base sends"])),
        "this/base health/s": figure(ab.map((r) => r["this health"] / r["base health"])),
      };
      if (ab.cpu.every((c) => c["this sends"] && c["base sends"])) {
        rows["CPU ms per send (send arm), this"] = figure(ab.cpu.map((c) => c["this sends"]));
        rows["CPU ms per send (send arm), base"] = figure(ab.cpu.map((c) => c["base sends"]));
        rows["CPU per send (send arm), base/this"] = figure(ab.cpu.map((c) => c["base sends"] / c["this sends"]));
        rows["CPU per health (health arm), base/this"] = figure(ab.cpu.map((c) => c["base health"] / c["this health"]));
      }
      if (allIn.every((c) => c.this && c.base)) {
        rows["all-in CPU ms per send, this"] = figure(allIn.map((c) => c.this));
        rows["all-in CPU ms per send, base"] = figure(allIn.map((c) => c.base));
        rows["all-in CPU per send, base/this"] = figure(allIn.map((c) => c.base / c.this));
        console.log(
          `CPU ms per /health with no send work pending: this ${healthCost.this?.toFixed(2)}, base ${healthCost.base?.toFixed(2)}`,
        );
      }
      console.log(
        `vs ${REF}: ${ROUNDS} interleaved rounds of ${ROUND_SECONDS} s, ${CONNECTIONS} connections${SWAP ? ", baseline first (BENCH_SWAP=1)" : ""}`,
      );
      console.table(rows);
      console.log(
        `vs ${REF}, median of ${ROUNDS} interleaved rounds: sends/s this/base ${median(ab.map((r) => r["this sends"] / r["base sends"])).toFixed(3)}, ` +
          `(sends/health) this/base ${median(ab.map((r) => r["this sends"] / r["this health"] / (r["base sends"] / r["base health"]))).toFixed(3)} (target ≥ 1.0 within noise)`,
      );
    }

    // Where the CPU goes (BENCH_PROFILE=1): this server's isolate under the V8 profiler.
    if (PROFILE && server) {
      await profileRun(server, pop.send).catch((err) => console.warn(`(profile not taken: ${err.message})`));
    }

    if (!FULL) return;
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
}

await main();
