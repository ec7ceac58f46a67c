#!/usr/bin/env node
// `npm run sim:scale`: what one send costs and what breaks first at each 10×
// step from 10 thousand users to 10 million users / 100 million messages a day.
// Costs come from the last `npm run bench` (.bench/send-costs.json), with the
// defaults below when it has not run; Cloudflare's limits are in LIMITS (sources
// in docs/scaling.md). Knobs (environment): MSGS_PER_USER_DAY (10), PEAK_FACTOR
// (3: peak second vs the day's average), RETENTION_DAYS (30), D1_MS_PER_WRITE (1),
// RECEIVE_PER_MINUTE (120: the production receive cap of one Account).
import { existsSync, readFileSync } from "node:fs";

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const MSGS_PER_USER_DAY = env("MSGS_PER_USER_DAY", 10);
const PEAK = env("PEAK_FACTOR", 3);
const RETENTION_DAYS = env("RETENTION_DAYS", 30);
const D1_MS_PER_WRITE = env("D1_MS_PER_WRITE", 1);
const RECEIVE_PER_MINUTE = env("RECEIVE_PER_MINUTE", 120);

/** Binding Cloudflare limits (Workers Paid), see docs/scaling.md for where each comes from. */
const LIMITS = {
  doRequestsPerSecondPerObject: 1_000, // Durable Objects FAQ: soft limit per object
  doStorageBytesPerObject: 10e9, // SQLite-backed Durable Object: 10 GB
  d1BytesPerDatabase: 10e9, // D1: 10 GB per database
  d1WritesPerSecond: 1_000 / D1_MS_PER_WRITE, // D1 is one single-threaded SQLite writer
  queueMessagesPerSecond: 5_000, // Queues: per queue
  queueMessageBytes: 128 * 1024, // Queues: per message
  r2WritesPerSecondPerKey: 1, // R2: concurrent writes to one key (ours are unique per batch)
};
/** List prices (USD, Workers Paid) for the cost lines. */
const PRICE = { doRequest: 0.15e-6, r2ClassA: 4.5e-6, r2ClassB: 0.36e-6, queueOp: 0.4e-6, d1RowWritten: 1e-6 };

const DEFAULTS = {
  source: "defaults (run `npm run bench` to measure)",
  perSend: { doCalls: 3, storageCommits: 3.1, queueMessages: 0.05, d1Writes: 0.05, r2Writes: 0.05, r2Reads: 0.05 },
  d1BytesPerUser: 2_048,
  inboxRowBytes: 700,
  batchBytes: 40_000,
  throughput: null,
};

function loadCosts() {
  const path = ".bench/send-costs.json";
  if (!existsSync(path)) return DEFAULTS;
  const m = JSON.parse(readFileSync(path, "utf8"));
  return { ...DEFAULTS, ...m, perSend: { ...DEFAULTS.perSend, ...m.perSend } };
}

const costs = loadCosts();
const fmt = (n) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(1)}G`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)}M`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)}k`
        : n.toFixed(n < 10 ? 2 : 0);
const pct = (x) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

/**
 * Flush batches per send. An Account flushes at most once a second, so a busy
 * Account amortises one batch over many sends (the bench measures that case),
 * while a user sending ten messages a day flushes once per commit: each send
 * then costs one batch on the recipient and one on the sender.
 */
function batchesPerSend(commitsPerAccountPerSecond) {
  return 2 * Math.min(1, 1 / Math.max(commitsPerAccountPerSecond, 1e-9));
}

console.log(
  `per-send costs from: ${costs.source ?? "npm run bench"}${costs.measuredAt ? ` (${costs.measuredAt})` : ""}`,
);
const p = costs.perSend;
console.log(
  `  measured per send: ${p.doCalls} Durable Object calls, ${p.storageCommits.toFixed(2)} storage commits, ` +
    `${p.queueMessages.toFixed(4)} queue messages = R2 writes ≥ D1 writes (busy bench Accounts)`,
);
if (costs.messages && costs.batches && costs.throughput) {
  const accounts = 52; // the bench's senders + recipients; every send commits on two of them
  const rate = (2 * costs.throughput.sendsPerSecond) / accounts;
  console.log(
    `  model check: at the bench's ~${rate.toFixed(1)} commits/s per Account the model says ` +
      `${batchesPerSend(rate).toFixed(3)} batches/send; measured ${(costs.batches / costs.messages).toFixed(3)} ` +
      "over the whole run (its preload sends everything to one inbox, which amortises further)",
  );
}
console.log(
  `  assumptions: ${MSGS_PER_USER_DAY} messages per user per day, peak ${PEAK}× average, ` +
    `${RETENTION_DAYS}-day inbox retention, D1 ${D1_MS_PER_WRITE} ms per write, ` +
    `${fmt(costs.d1BytesPerUser)} B of D1 per user, ${costs.inboxRowBytes} B per inbox row\n`,
);

const rows = [];
const verdicts = [];
for (const users of [10_000, 100_000, 1_000_000, 10_000_000]) {
  const perDay = users * MSGS_PER_USER_DAY;
  const peakSends = (perDay / 86_400) * PEAK;
  const perAccountRate = (2 * MSGS_PER_USER_DAY) / 86_400; // an average user's commits per second (sent + received)
  const b = batchesPerSend(perAccountRate);
  const queuePerSecond = peakSends * b;
  const d1WritesPerSecond = queuePerSecond; // ≤ one totals upsert per batch
  const d1Bytes = users * costs.d1BytesPerUser;
  const use = {
    "index queue (msg/s)": queuePerSecond / LIMITS.queueMessagesPerSecond,
    "D1 writes (/s)": d1WritesPerSecond / LIMITS.d1WritesPerSecond,
    "D1 size": d1Bytes / LIMITS.d1BytesPerDatabase,
  };
  const [worst, u] = Object.entries(use).sort((a, b2) => b2[1] - a[1])[0];
  const dayCost =
    perDay * p.doCalls * PRICE.doRequest +
    perDay * b * (PRICE.r2ClassA + PRICE.r2ClassB + 3 * PRICE.queueOp + PRICE.d1RowWritten);
  rows.push({
    users: fmt(users),
    "msgs/day": fmt(perDay),
    "peak sends/s": fmt(peakSends),
    "batches/send": b.toFixed(2),
    "queue msg/s": fmt(queuePerSecond),
    "D1 writes/s": fmt(d1WritesPerSecond),
    "D1 size": `${fmt(d1Bytes)}B`,
    "R2 objects/day": fmt(perDay * b),
    "≈ $/day": dayCost.toFixed(0),
    "closest limit": `${worst} ${pct(u)}`,
  });
  verdicts.push({ users, use });
}
console.table(rows);

const ACTIONS = {
  "index queue (msg/s)":
    "shard the index queue by account hash (INDEX_0…INDEX_n, one consumer each), or lengthen the flush window of idle Accounts",
  "D1 writes (/s)":
    "write totals less often (only when they changed by a threshold, or every N seconds per Account) or shard account_totals across D1 databases by account hash; ops sums come from Analytics Engine",
  "D1 size":
    "shard D1 by user id (users, sessions, totals per shard), routing with a hash of the id; move auth state to Durable Objects",
};

// One Account is the same size at any number of users: its ceiling is set by
// the receive cap and the retention window, not by the step.
const capPerDay = RECEIVE_PER_MINUTE * 60 * 24;
const live = capPerDay * RETENTION_DAYS * costs.inboxRowBytes;
// archived_ids: ~100 B per archived message, pruned past the 90-day idempotency
// horizon (durable-objects/account/history-archive.ts), so bounded for good.
const ARCHIVED_ID_HORIZON_DAYS = 90;
const ids = capPerDay * ARCHIVED_ID_HORIZON_DAYS * 100;
console.log(
  `one Account at the receive cap (${RECEIVE_PER_MINUTE}/min = ${fmt(capPerDay)} messages/day): ` +
    `${fmt(live)}B of live inbox after ${RETENTION_DAYS} days + ${fmt(ids)}B of archived ids (${ARCHIVED_ID_HORIZON_DAYS}-day horizon) ` +
    `= ${pct((live + ids) / LIMITS.doStorageBytesPerObject)} of the 10 GB per object, at any age; ` +
    `${RECEIVE_PER_MINUTE / 60} sends/s = ${pct(RECEIVE_PER_MINUTE / 60 / LIMITS.doRequestsPerSecondPerObject)} of ~1,000 req/s per object ` +
    "(profile views come from the cache).\n",
);
for (const { users, use } of verdicts) {
  const over = Object.entries(use)
    .filter(([, x]) => x >= 1)
    .sort((a, b) => b[1] - a[1])
    .map(([k]) => k);
  const [worst, u] = Object.entries(use).sort((a, b) => b[1] - a[1])[0];
  if (over.length) console.log(`${fmt(users)} users: BREAKS — ${over.join(", ")}. Then: ${ACTIONS[over[0]]}.`);
  else console.log(`${fmt(users)} users: fits; closest is ${worst} at ${pct(u)} (next: ${ACTIONS[worst]}).`);
}
