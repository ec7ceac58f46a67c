// GET /v1/ops/status: one admin view of the running system, from what works
// locally as well as deployed — D1 rollups (ops_counters), the per-Account
// totals, the audit checkpoints, and the chain indexer's status (chain mode).
import { config } from "../config";
import { countersSince, flushCounters } from "../observability/counters";
import { ledgerSummary } from "../queues/index-consumer";
import { VERSION } from "../version";
import { chainStatus } from "./hooks";
import { queueBacklogs, queueStats } from "./queue-stats";

const HOUR = 3_600_000;

async function activity(env: Env, since: number) {
  const sums = await countersSince(env, since);
  // Counts are far below 2^53; money (volume, fees) stays an exact decimal string.
  const c = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Number(v)])) as Record<
    keyof typeof sums,
    number
  >;
  const errors = c.errors_4xx + c.errors_5xx;
  return {
    requests: c.requests,
    signups: c.signups,
    messages: c.sends,
    volume: `${sums.volume}`,
    fees: `${sums.fees}`,
    errors4xx: c.errors_4xx,
    errors5xx: c.errors_5xx,
    /** 5xx per request: what the service got wrong (4xx are callers' mistakes, reported separately). */
    errorRate: c.requests ? c.errors_5xx / c.requests : 0,
    clientErrorRate: c.requests ? errors / c.requests : 0,
    abuseRefused: c.abuse_refused,
  };
}

export async function opsStatus(env: Env, now = Date.now()) {
  // This isolate's counts first (locally there is one isolate, so status is exact).
  await flushCounters(env);
  const [lastHour, lastDay, queuesHour, queuesDay, backlogs, users, conservation, checkpoint, chain] =
    await Promise.all([
      activity(env, now - HOUR),
      activity(env, now - 24 * HOUR),
      queueStats(env, now - HOUR),
      queueStats(env, now - 24 * HOUR),
      queueBacklogs(env, now),
      env.DB.prepare(
        "SELECT COUNT(*) AS total, SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END) AS day, SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END) AS hour FROM users",
      )
        .bind(now - 24 * HOUR, now - HOUR)
        .first<{ total: number; day: number | null; hour: number | null }>(),
      ledgerSummary(env),
      env.DB.prepare("SELECT id, created_at, accounts FROM audit_checkpoints ORDER BY id DESC LIMIT 1").first<{
        id: number;
        created_at: number;
        accounts: number;
      }>(),
      chainStatus(env),
    ]);
  return {
    version: VERSION,
    mode: config(env).ledgerMode,
    generatedAt: new Date(now).toISOString(),
    queues: queuesHour.map((q, i) => ({
      name: q.name,
      backlog: backlogs.find((b) => b.name === q.name) ?? null,
      lastHour: q,
      lastDay: queuesDay[i],
    })),
    /** Every queue's backlog now, dead-letter queues included (null where the Worker cannot ask). */
    backlogs,
    indexer:
      chain === null
        ? { mode: "off" as const }
        : {
            mode: "chain" as const,
            checkpointBlock: chain.indexer.checkpoint?.blockNumber ?? null,
            headBlock: chain.indexer.head,
            lagBlocks: chain.indexer.lagBlocks,
            lagSeconds: chain.indexer.lagSeconds,
            rpcError: chain.indexer.rpcError ?? null,
            relayerInFlight: chain.relayer.inFlight,
          },
    accounts: {
      total: users?.total ?? 0,
      newLastHour: users?.hour ?? 0,
      newLastDay: users?.day ?? 0,
      withTotals: conservation.accounts,
    },
    activity: { lastHour, lastDay },
    conservation,
    audit: checkpoint
      ? {
          latestCheckpoint: {
            id: checkpoint.id,
            createdAt: new Date(checkpoint.created_at).toISOString(),
            accounts: checkpoint.accounts,
          },
        }
      : { latestCheckpoint: null },
  };
}
