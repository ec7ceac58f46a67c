// GET /v1/ops/status: queues (processed, retries, dead letters, consumer lag),
// indexer (chain mode off until the chain indexer is merged: the hook answers
// null), accounts, messages, volume, error rate and the conservation check —
// all from state that works locally.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { bump, countersSince, flushCounters } from "../worker/observability/counters";
import { recordQueueBatch } from "../worker/ops/queue-stats";
import { api } from "./helpers";
import { funded, send, settled } from "./send-helpers";

const status = async () => {
  const r = await api("GET", "/v1/ops/status", { token: env.ADMIN_TOKEN });
  expect(r.status).toBe(200);
  return r.body;
};

describe("ops status", () => {
  it("counts messages, volume, sign-ups, errors; reports the index queue and conservation", async () => {
    const before = await status();
    const a = await funded("10000000", "st_a");
    const b = await funded("0", "st_b");
    expect((await send(a, b, "status one")).status).toBe(201);
    expect((await send(a, b, "status two")).status).toBe(201);
    expect((await api("GET", "/v1/inbox", { token: "bad" })).status).toBe(401);
    await settled(a, b);
    await flushCounters(env);
    // The Accounts flush to the index queue; its consumer records what it processed.
    for (const u of [a, b]) await runInDurableObject(env.ACCOUNT.getByName(u.user.id), (x: Account) => x.flush());
    let s = await status();
    for (let i = 0; i < 100 && s.queues[0].lastHour.processed <= before.queues[0].lastHour.processed; i++) {
      await new Promise((r) => setTimeout(r, 30));
      s = await status();
    }
    const h = s.activity.lastHour;
    expect(h.messages - before.activity.lastHour.messages).toBe(2);
    expect(BigInt(h.volume) - BigInt(before.activity.lastHour.volume)).toBe(2n * (1_000_000n + 25_000n));
    expect(h.signups - before.activity.lastHour.signups).toBeGreaterThanOrEqual(2);
    expect(h.errors4xx - before.activity.lastHour.errors4xx).toBeGreaterThanOrEqual(1);
    expect(h.requests).toBeGreaterThan(h.errors4xx);
    expect(s.activity.lastDay.messages).toBeGreaterThanOrEqual(h.messages);
    expect(s.queues.map((q: { name: string }) => q.name)).toEqual(["index", "deliveries", "settle"]);
    expect(s.queues[0].lastHour.processed).toBeGreaterThan(before.queues[0].lastHour.processed);
    expect(s.accounts.total).toBeGreaterThanOrEqual(2);
    expect(s.indexer).toEqual({ mode: "off" }); // chain mode off
    expect(s.conservation.conserved).toBe(true);
    expect(s.mode).toBe("simulated");
  });

  it("reports dead letters, retries and the age of the oldest consumed message", async () => {
    const old = new Date(Date.now() - 90_000);
    await recordQueueBatch(env, "index-dlq", [{ timestamp: old, attempts: 1 }]);
    await recordQueueBatch(env, "settle", [
      { timestamp: old, attempts: 3 },
      { timestamp: new Date(), attempts: 1 },
    ]);
    const s = await status();
    const byName = Object.fromEntries(s.queues.map((q: { name: string; lastHour: object }) => [q.name, q.lastHour]));
    expect(byName.index.deadLetters).toBeGreaterThanOrEqual(1);
    expect(byName.settle).toMatchObject({ processed: 2, retries: 1 });
    expect(byName.settle.oldestMessageAgeMs).toBeGreaterThanOrEqual(90_000);
  });

  it("keeps money counters exact above 2^53 (bigint in memory, 64-bit integers in D1)", async () => {
    const big = 2n ** 53n + 1n; // 9007199254740993: a JS number would round it to …992
    const before = await status();
    const sinceBefore = await countersSince(env, Date.now() - 3_600_000);
    bump("volume", big);
    bump("volume", big);
    bump("fees", big);
    await flushCounters(env);
    const since = await countersSince(env, Date.now() - 3_600_000);
    expect(since.volume - sinceBefore.volume).toBe(2n * big);
    expect(since.fees - sinceBefore.fees).toBe(big);
    const s = await status();
    expect(BigInt(s.activity.lastHour.volume) - BigInt(before.activity.lastHour.volume)).toBe(2n * big);
    expect(BigInt(s.activity.lastHour.fees) - BigInt(before.activity.lastHour.fees)).toBe(big);
  });

  it("shows each queue's backlog now (Queue metrics()) and the peak backlog its consumer saw", async () => {
    // A batch handed over with 7 messages still waiting behind it.
    await recordQueueBatch(env, "index-dlq", [{ timestamp: new Date(), attempts: 1 }], {
      metrics: { backlogCount: 7 },
    });
    const s = await status();
    const names = s.backlogs.map((b: { name: string }) => b.name);
    expect(names).toEqual(["index", "deliveries", "settle", "index-dlq", "deliveries-dlq", "settle-dlq"]);
    const by = Object.fromEntries(s.backlogs.map((b: { name: string }) => [b.name, b]));
    // Producer-bound queues answer live figures; the test consumers keep them drained.
    for (const q of ["index", "deliveries", "settle", "deliveries-dlq"]) {
      expect(by[q].messages).toEqual(expect.any(Number));
      expect(by[q].bytes).toEqual(expect.any(Number));
    }
    // No producer binding: no live figure, but the consumer's peak is reported.
    expect(by["index-dlq"].messages).toBeNull();
    expect(s.queues[0].backlog.name).toBe("index");
    const dlq = await env.DB.prepare(
      "SELECT MAX(value) AS v FROM ops_counters WHERE metric = 'queue_backlog:index-dlq'",
    ).first<{ v: number }>();
    expect(dlq?.v).toBeGreaterThanOrEqual(7);
  });
});
