// GET /v1/ops/audit on an Account whose ledger is mostly in R2: a page reads
// only the archive chunks it needs (account/audit.ts) and answers exactly what
// it answered while every entry was live.
import { env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import type { AuditPage } from "../durable-objects/account/audit";
import { CHUNK_ROWS } from "../durable-objects/account/history-archive";
import { funded } from "./send-helpers";

/** Every page of the audit chain (limit 50, anchored at `anchor`), and how many R2 reads each took. */
async function pages(stub: DurableObjectStub<Account>, anchor: number | null) {
  return runInDurableObject(stub, async (a: Account) => {
    const bucket = (a as unknown as { env: Env }).env.ARCHIVE;
    const get = bucket.get.bind(bucket);
    let reads = 0;
    bucket.get = ((...args: Parameters<R2Bucket["get"]>) => {
      reads++;
      return get(...args);
    }) as R2Bucket["get"];
    const out: { page: AuditPage; reads: number }[] = [];
    try {
      let cursor = 0;
      for (let i = 0; i < 100; i++) {
        reads = 0;
        const page = await a.auditPage(cursor, 50, anchor);
        out.push({ page, reads });
        if (!page.nextCursor) return out;
        cursor = Number(page.nextCursor);
      }
      throw new Error("audit pages never ended");
    } finally {
      bucket.get = get;
    }
  });
}

/** Moves every flushed entry to R2 (a 1 ms window: ledger hashes cover created_at, so entries cannot be aged). */
function archiveAll(stub: DurableObjectStub<Account>) {
  return runInDurableObject(stub, async (a: Account) => {
    a.retentionOverrideMs = 1;
    await new Promise((r) => setTimeout(r, 5));
    try {
      await a.archiveOldMessages();
    } finally {
      a.retentionOverrideMs = null;
    }
  });
}

it("an audit page reads only the archive chunks it needs, with the same entries, hashes and verdict", {
  timeout: 120_000,
}, async () => {
  const u = await funded("0", "auar");
  const stub = env.ACCOUNT.getByName(u.user.id);
  // 2.5 chunks of ledger entries.
  for (let i = 0; i < CHUNK_ROWS * 2.5; i++) await stub.topup("1", null, `h${i}`);
  const live = await pages(stub, 7);
  expect(live.every((p) => p.reads === 0)).toBe(true);
  expect(live.at(-1)?.page.chain).toMatchObject({ verified: true, count: CHUNK_ROWS * 2.5 });

  // Everything flushed moves to R2 (a 1 ms window).
  await stub.flush();
  await archiveAll(stub);
  await runInDurableObject(stub, async (_a: Account, state) => {
    expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM ledger").one().n).toBe(0);
    expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM ledger_archive").one().n).toBe(3);
  });

  // The first page checks the archived chain once (all 3 chunks); after that a
  // page reads the chunk(s) holding its entries and the one before it, and the anchor's.
  const first = await pages(stub, 7);
  expect(first.map((p) => p.page)).toEqual(live.map((p) => p.page));
  expect(first[0].reads).toBe(3);
  const again = await pages(stub, null);
  expect(again.map((p) => p.page)).toEqual(live.map((p) => ({ ...p.page, anchorHash: null })));
  // Pages of 50 inside a chunk of 200 read one chunk; the page crossing a chunk edge reads two.
  expect(again.map((p) => p.reads)).toEqual([1, 1, 1, 1, 2, 1, 1, 1, 2, 1]);
  // The route before this read every chunk for every page: 3 × 10 = 30.
  expect(again.reduce((n, p) => n + p.reads, 0)).toBe(12);
});

it("an archived chunk changed in R2 before it verified is reported, and stays reported", {
  timeout: 60_000,
}, async () => {
  const u = await funded("0", "auat");
  const stub = env.ACCOUNT.getByName(u.user.id);
  for (let i = 0; i < CHUNK_ROWS + 20; i++) await stub.topup("1", null, `t${i}`);
  await stub.flush();
  await archiveAll(stub);
  const [first] = (await env.ARCHIVE.list({ prefix: `accounts/${u.user.id}/ledger/` })).objects;
  const rows = await (await env.ARCHIVE.get(first.key))?.json<{ id: number; amount: string }[]>();
  if (!rows) throw new Error("chunk missing");
  rows[41].amount = "1000000";
  await env.ARCHIVE.put(first.key, JSON.stringify(rows));
  for (let i = 0; i < 2; i++) {
    const page = await stub.auditPage(180, 10, null);
    expect(page.chain).toMatchObject({ verified: false, brokenAt: { id: rows[41].id, problem: "hash_mismatch" } });
    expect(page.entries.map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, j) => 181 + j));
  }
});
