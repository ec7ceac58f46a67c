// Scale: D1 holds nothing per message, and the R2 archive holds every flushed
// batch exactly once, however often the queue delivers it.
import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { archiveKey, type FlushBatch, freezeBatch } from "../durable-objects/account/outbox-flush";
import { archiveBatch, consumeIndexBatch } from "../worker/queues/index-consumer";
import { funded, send, settled, type User } from "./send-helpers";

/** Row count of every D1 table (wrangler's and Cloudflare's own excluded) and the database size. */
async function d1Footprint() {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%' AND name != 'd1_migrations' ORDER BY name",
  ).all<{ name: string }>();
  const rows: Record<string, number> = {};
  for (const { name } of tables.results) {
    rows[name] = (await env.DB.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).first<{ n: number }>())?.n ?? 0;
  }
  const size = (await env.DB.prepare("SELECT 1").run()).meta.size_after;
  return { rows, size };
}

/** Flushes the Accounts and waits until D1 has their totals as of their latest ledger entry. */
async function drained(...users: User[]) {
  await settled(...users);
  for (const u of users) {
    const stub = env.ACCOUNT.getByName(u.user.id);
    const want = await runInDurableObject(
      stub,
      (_a: Account, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COALESCE(MAX(id), 0) AS n FROM ledger").one().n,
    );
    for (let i = 0; ; i++) {
      await stub.flush();
      const row = await env.DB.prepare("SELECT seq FROM account_totals WHERE account_id = ?")
        .bind(u.user.id)
        .first<{ seq: number }>();
      if ((row?.seq ?? 0) === want) break;
      if (i > 200) throw new Error(`totals of ${u.user.id} stuck at ${row?.seq}, want ${want}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function archivedBatches(accountId: string) {
  const listed = await env.ARCHIVE.list({ prefix: `accounts/${accountId}/batches/`, include: ["customMetadata"] });
  return listed.objects;
}

it("D1 row counts and size do not grow with the number of messages", { timeout: 120_000 }, async () => {
  const alice = await funded("1000000000", "growa");
  const bob = await funded("0", "growb");
  await drained(alice, bob);
  const footprints = [];
  let sent = 0;
  for (const n of [10, 40, 120]) {
    for (let i = 0; i < n; i += 10) {
      const rs = await Promise.all(Array.from({ length: 10 }, (_, j) => send(alice, bob, `m${sent + i + j}`)));
      for (const r of rs) expect(r.status).toBe(201);
    }
    sent += n;
    await drained(alice, bob);
    footprints.push({ sent, ...(await d1Footprint()) });
  }
  // 170 messages later: the same rows (users, sessions, one totals row per Account)…
  expect(footprints[1].rows).toEqual(footprints[0].rows);
  expect(footprints[2].rows).toEqual(footprints[0].rows);
  expect(footprints[0].rows.account_totals).toBe(2);
  expect(footprints[0].rows).not.toHaveProperty("message_index");
  expect(footprints[0].rows).not.toHaveProperty("ledger_mirror");
  // …and the same database size, page for page.
  expect(footprints[0].size).toBeGreaterThan(0);
  expect(footprints[2].size).toBe(footprints[0].size);
  // The history went to R2 instead: every message is in bob's archive.
  const bodies = await Promise.all(
    (await archivedBatches(bob.user.id)).map(async (o) => (await env.ARCHIVE.get(o.key))?.json<FlushBatch>()),
  );
  const received = new Set(bodies.flatMap((b) => b?.messages.map((m) => m.messageId) ?? []));
  expect(received.size).toBe(sent);
});

it("archives each flushed batch exactly once after duplicated queue deliveries", { timeout: 60_000 }, async () => {
  const alice = await funded("100000000", "dupa");
  const bob = await funded("0", "dupb");
  for (let i = 0; i < 5; i++) expect((await send(alice, bob, `d${i}`)).status).toBe(201);
  await drained(alice, bob);
  const before = await archivedBatches(bob.user.id);
  expect(before.length).toBeGreaterThan(0);
  const batches = await Promise.all(before.map(async (o) => (await env.ARCHIVE.get(o.key))?.json<FlushBatch>()));

  // The queue delivers every batch again, twice in one delivery and once more later.
  for (const round of [0, 1]) {
    const messages = batches.flatMap((b, i) =>
      (round === 0 ? [0, 1] : [0]).map((k) => ({
        id: `redeliver-${round}-${i}-${k}`,
        timestamp: new Date(),
        attempts: 2,
        body: b as FlushBatch,
      })),
    );
    const mb = createMessageBatch<FlushBatch>("index", messages);
    const ctx = createExecutionContext();
    await consumeIndexBatch(mb, env);
    const result = await getQueueResult(mb, ctx);
    expect(result.explicitAcks.length).toBe(messages.length);
    expect(result.retryMessages).toEqual([]);
  }
  const after = await archivedBatches(bob.user.id);
  // Same keys, and each object untouched: same etag, same upload time.
  expect(after.map((o) => [o.key, o.etag, o.uploaded.getTime()])).toEqual(
    before.map((o) => [o.key, o.etag, o.uploaded.getTime()]),
  );
  // Sequences 1…n, each once.
  expect(after.map((o) => Number(o.customMetadata?.seq))).toEqual(after.map((_, i) => i + 1));
  // D1 still has one totals row for bob, at his latest entry.
  const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM account_totals WHERE account_id = ?")
    .bind(bob.user.id)
    .first<{ n: number }>();
  expect(rows?.n).toBe(1);
});

it("two consumers racing on one new batch write it once", async () => {
  const batch: FlushBatch = {
    v: 1,
    accountId: "u_race",
    seq: 1,
    frozenAt: 1_700_000_000_000,
    ledger: [],
    messages: [],
    totals: { seq: 0, balance: "0", held: "0", fees: "0", topups: "0", deposits: "0", withdrawals: "0" },
  };
  const wrote = await Promise.all([archiveBatch(env.ARCHIVE, batch), archiveBatch(env.ARCHIVE, batch)]);
  expect(wrote.filter(Boolean)).toHaveLength(1);
  expect((await env.ARCHIVE.list({ prefix: "accounts/u_race/" })).objects).toHaveLength(1);
  // A different body under the same key (which a frozen batch never produces) cannot overwrite it.
  expect(await archiveBatch(env.ARCHIVE, { ...batch, totals: { ...batch.totals, balance: "1" } })).toBe(false);
  expect(JSON.parse(await ((await env.ARCHIVE.get(archiveKey(batch))) as R2ObjectBody).text()).totals.balance).toBe(
    "0",
  );
});

it("a batch frozen before an eviction or failed send is resent unchanged", { timeout: 60_000 }, async () => {
  const alice = await funded("100000000", "frza");
  const bob = await funded("0", "frzb");
  await drained(alice, bob);
  expect((await send(alice, bob, "frozen")).status).toBe(201);
  await settled(alice, bob);
  // Freeze the next batch as a flush would, then "lose" the send (the object is evicted before it).
  const frozen = await runInDurableObject(env.ACCOUNT.getByName(bob.user.id), (_a: Account, state) =>
    freezeBatch(
      state.storage.sql,
      bob.user.id,
      {
        seq: 99,
        balance: "x",
        held: "0",
        fees: "0",
        topups: "0",
        deposits: "0",
        withdrawals: "0",
      },
      1_234,
    ),
  );
  expect(frozen?.messages.map((m) => m.messageId)).toHaveLength(1);
  // More arrives meanwhile; the next flush sends the frozen batch first, byte for byte, then a new one.
  expect((await send(alice, bob, "later")).status).toBe(201);
  await env.ACCOUNT.getByName(bob.user.id).flush();
  const key = archiveKey(frozen as FlushBatch);
  for (let i = 0; i < 100 && !(await env.ARCHIVE.head(key)); i++) await new Promise((r) => setTimeout(r, 50));
  expect(await (await env.ARCHIVE.get(key))?.json()).toEqual(frozen);
  const seqs = await runInDurableObject(env.ACCOUNT.getByName(bob.user.id), (_a: Account, state) =>
    state.storage.sql.exec("SELECT seq FROM flush_batches").toArray(),
  );
  expect(seqs).toEqual([]);
});
