#!/usr/bin/env node
// `npm run bench:ops`: the cost of the audit hash chain and the abuse checks on
// the send path, measured in one run. Two disposable `wrangler dev` servers
// started the same way (scripts/bench-common.mjs) — checks ON (the default) on
// BENCH_PORT and OFF (AUDIT_CHAIN=off, ABUSE_CHECKS=off) on BENCH_PORT_B — each
// with its own funded senders and recipients, warmed up. Then BENCH_ROUNDS
// interleaved rounds: in each, the same send load (BENCH_CONNECTIONS) runs for
// BENCH_SLICE_SECONDS against ON and OFF back to back (order alternating), and
// GET /health the same way (the machine's speed at that moment). A round's
// figures are ON/OFF within the round; the run's are the medians. Every round
// is printed. Last line: median over rounds of ON/OFF of the bench ratio
// (sends/s ÷ health/s of the same server), the figure (target ≥ 0.95).
import { ensureBuilt, health, load, median, pooled, population, rounds, startServer } from "./bench-common.mjs";

const PORT = Number(process.env.BENCH_PORT ?? 8790);
const PORT_B = Number(process.env.BENCH_PORT_B ?? PORT + 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const SLICE = Number(process.env.BENCH_SLICE_SECONDS ?? 3);

await ensureBuilt();
const servers = [];
try {
  // BENCH_SWAP=1 starts OFF first on BENCH_PORT: a run each way shows whether start order or port matters.
  const configs = [
    { label: "ON", vars: {} },
    // BENCH_OFF=audit or BENCH_OFF=abuse turns off only that one (which of the two costs what).
    {
      label: "OFF",
      vars: {
        ...(process.env.BENCH_OFF !== "abuse" ? { AUDIT_CHAIN: "off" } : {}),
        ...(process.env.BENCH_OFF !== "audit" ? { ABUSE_CHECKS: "off" } : {}),
      },
    },
  ];
  if (process.env.BENCH_SWAP === "1") configs.reverse();
  for (const [i, c] of configs.entries()) {
    servers.push({ label: c.label, ...(await startServer(i === 0 ? PORT : PORT_B, c.vars)) });
  }
  for (const s of servers) {
    console.log(`preparing ${s.label} (${s.base}): 40 funded senders, 10 recipients, warm-up …`);
    s.pop = await population(s.base);
  }
  const arms = servers.flatMap((s) => [
    { label: `${s.label} sends`, run: () => load(s.base, s.pop.send, { duration: SLICE }) },
    { label: `${s.label} health`, run: () => load(s.base, health, { duration: Math.max(1, SLICE / 2) }) },
  ]);
  // One unmeasured round: both servers have just been warmed one after the other.
  await rounds(arms, 1);
  const rows = [];
  await rounds(arms, ROUNDS, {
    onRound: (i, r) => {
      const row = {
        round: i + 1,
        "ON sends/s": Math.round(r["ON sends"]),
        "OFF sends/s": Math.round(r["OFF sends"]),
        "ON health/s": Math.round(r["ON health"]),
        "OFF health/s": Math.round(r["OFF health"]),
        "ON/OFF sends": +(r["ON sends"] / r["OFF sends"]).toFixed(3),
        "ON/OFF sends/health": +(r["ON sends"] / r["ON health"] / (r["OFF sends"] / r["OFF health"])).toFixed(3),
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    },
  });
  console.table(rows);
  const m = (k) => median(rows.map((r) => r[k])).toFixed(3);
  const spread = (k) => `${Math.min(...rows.map((r) => r[k]))}–${Math.max(...rows.map((r) => r[k]))}`;
  console.log(
    `pooled ON/OFF sends/s over all rounds: ${pooled(rows, "ON sends/s", "OFF sends/s").toFixed(3)}; per-round range ${spread("ON/OFF sends")}`,
  );
  console.log(
    `sends/s median: ON ${median(rows.map((r) => r["ON sends/s"]))}, OFF ${median(rows.map((r) => r["OFF sends/s"]))}` +
      ` (${ROUNDS} interleaved rounds of ${SLICE} s, ${process.env.BENCH_CONNECTIONS ?? 20} connections)`,
  );
  console.log(`ratio ON/OFF (sends/s), median of rounds: ${m("ON/OFF sends")}`);
  // The figure: the bench ratio (sends/health, as `npm run bench` prints) ON over OFF. Dividing by each
  // server's own /health rate in the same round cancels what differs between the two processes but not the checks.
  console.log(
    `ratio ON/OFF of the bench ratio (sends/health), median of rounds: ${m("ON/OFF sends/health")}  (target ≥ 0.95)`,
  );
} finally {
  for (const s of servers) await s.stop();
}
