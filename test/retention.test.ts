// Inbox retention: messages past the window leave the Account for R2 and the
// inbox API reads them back, in order, with the same cursors.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { type ApiResult, api } from "./helpers";
import { funded, send, settled, totals, type User } from "./send-helpers";

const DAY = 86_400_000;

async function allPages(u: User, limit: number) {
  const seen: { messageId: string; body: string; readAt: string | null; createdAt: string }[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const r: ApiResult = await api("GET", `/v1/inbox?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, {
      token: u.accessToken,
    });
    expect(r.status).toBe(200);
    seen.push(...r.body.messages);
    cursor = r.body.nextCursor;
    if (!cursor) return seen;
  }
  throw new Error("inbox never ended");
}

const liveRows = (u: User) =>
  runInDurableObject(
    env.ACCOUNT.getByName(u.user.id),
    (_a: Account, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM inbox").one().n,
  );

it("an inbox scrolled past the retention window returns archived messages in order", { timeout: 120_000 }, async () => {
  const alice = await funded("1000000000", "reta");
  const bob = await funded("0", "retb");
  const ids: string[] = [];
  for (let i = 0; i < 260; i += 20) {
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, j) => send(alice, bob, `old ${i + j}`, {}, `ret-${i + j}`)),
    );
    for (const r of rs) {
      expect(r.status).toBe(201);
      ids.push(r.body.messageId);
    }
  }
  await settled(alice, bob);
  const first = (await allPages(bob, 50)).map((m) => m.messageId);
  // Read one old message so its read mark must survive the move.
  expect((await api("POST", `/v1/inbox/${first.at(-3)}/read`, { token: bob.accessToken })).status).toBe(204);
  const before = await allPages(bob, 50);
  expect(before).toHaveLength(260);

  // The oldest 230 messages are 60 days old (the window is INBOX_RETENTION_DAYS = 30).
  const stub = env.ACCOUNT.getByName(bob.user.id);
  await runInDurableObject(stub, (_a: Account, state) => {
    state.storage.sql.exec("UPDATE inbox SET created_at = created_at - ? WHERE seq <= 230", 60 * DAY);
  });
  await stub.flush(); // rows move only once the index has them
  await runDurableObjectAlarm(stub);
  expect(await liveRows(bob)).toBe(30);
  const chunks = await env.ARCHIVE.list({ prefix: `accounts/${bob.user.id}/inbox/` });
  expect(chunks.objects.length).toBe(2); // 200 + 30 rows

  // Same API, same order, same content, for several page sizes (cursors cross the live/archived edge).
  const aged = (m: (typeof before)[number], i: number) =>
    i >= 30 ? { ...m, createdAt: new Date(Date.parse(m.createdAt) - 60 * DAY).toISOString() } : m;
  for (const limit of [7, 30, 100]) expect(await allPages(bob, limit)).toEqual(before.map(aged));
  expect(before.find((m) => m.messageId === first.at(-3))?.readAt).toEqual(expect.any(String));

  // One archived message by id; marking it read is accepted.
  const old = await api("GET", `/v1/inbox/${ids[5]}`, { token: bob.accessToken });
  expect(old.status).toBe(200);
  expect(old.body).toMatchObject({ messageId: ids[5], body: "old 5" });
  expect((await api("POST", `/v1/inbox/${ids[5]}/read`, { token: bob.accessToken })).status).toBe(204);

  // A retried send of an archived message is recognised: replayed, charged once.
  const spent = await totals(alice);
  const again = await send(alice, bob, "old 3", {}, "ret-3");
  expect(again.status).toBe(201); // replays answer like the first time, marked Idempotent-Replayed
  expect(again.headers.get("idempotent-replayed")).toBe("true");
  expect(again.body.messageId).toBe(ids[3]);
  expect((await send(alice, bob, "different", {}, "ret-3")).status).toBe(409);
  expect(await totals(alice)).toEqual(spent);

  // New messages still land on top; the archive is read only past the live rows.
  expect((await send(alice, bob, "fresh")).status).toBe(201);
  const top = await api("GET", "/v1/inbox?limit=1", { token: bob.accessToken });
  expect(top.body.messages[0].body).toBe("fresh");
});

it("keeps escrows that are still held, and moves nothing younger than the window", async () => {
  const alice = await funded("100000000", "rete");
  const bob = await funded("0", "retf");
  const put = await api("PUT", "/v1/me/pricing", {
    token: bob.accessToken,
    body: { defaultPrice: "1000000", firstContactPrice: "1000000", returnDiscountBps: 0, settlement: "on_reply" },
  });
  expect(put.status).toBe(200);
  expect((await send(alice, bob, "escrowed")).status).toBe(201);
  await api("PUT", "/v1/me/pricing", {
    token: bob.accessToken,
    body: { defaultPrice: "1000000", firstContactPrice: "1000000", returnDiscountBps: 0, settlement: "instant" },
  });
  expect((await send(alice, bob, "recent")).status).toBe(201);
  await settled(alice, bob);
  const stub = env.ACCOUNT.getByName(bob.user.id);
  await runInDurableObject(stub, (_a: Account, state) => {
    // Only the escrowed one is old; its escrow window is far ahead so it stays held.
    state.storage.sql.exec(
      "UPDATE inbox SET created_at = created_at - ?, escrow_until = ? WHERE body = 'escrowed'",
      100 * DAY,
      Date.now() + DAY,
    );
  });
  await stub.flush();
  expect(await stub.archiveOldMessages()).toBe(0);
  expect(await liveRows(bob)).toBe(2);
});

/** Every page of an API list (`key` = the array in the body), newest first. */
async function listAll(u: User, path: string, key: string, limit: number) {
  const out: { id?: string; messageId?: string }[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const r: ApiResult = await api("GET", `${path}?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, {
      token: u.accessToken,
    });
    expect(r.status).toBe(200);
    out.push(...r.body[key]);
    cursor = r.body.nextCursor;
    if (!cursor) return out;
  }
  throw new Error("list never ended");
}

const count = (u: User, table: string) =>
  runInDurableObject(
    env.ACCOUNT.getByName(u.user.id),
    (_a: Account, state) => state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n,
  );

/** Moves everything flushed and settled (a 1 ms window: ledger hashes cover created_at, so entries cannot be aged). */
async function retainAll(...users: User[]) {
  let moved = 0;
  for (const u of users) {
    const stub = env.ACCOUNT.getByName(u.user.id);
    await stub.flush();
    moved += await runInDurableObject(stub, async (a: Account) => {
      a.retentionOverrideMs = 1;
      await new Promise((r) => setTimeout(r, 5));
      try {
        return await a.archiveOldMessages();
      } finally {
        a.retentionOverrideMs = null;
      }
    });
  }
  return moved;
}

const audit = async (u: User) => {
  const r = await api("GET", `/v1/ops/audit?account=${u.user.id}&limit=1000`, { token: env.ADMIN_TOKEN });
  expect(r.status).toBe(200);
  return r.body.account;
};

it("outbox and ledger rows past the window move to R2: totals conserved, pages and the audit chain read back", {
  timeout: 120_000,
}, async () => {
  const alice = await funded("1000000000", "reto");
  const bob = await funded("0", "retp");
  for (let i = 0; i < 220; i += 20) {
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, j) => send(alice, bob, `out ${i + j}`, {}, `reto-${i + j}`)),
    );
    for (const r of rs) expect(r.status).toBe(201);
  }
  await settled(alice, bob);
  const outboxBefore = await listAll(alice, "/v1/outbox", "messages", 50);
  const ledgerBefore = await listAll(alice, "/v1/payments/ledger", "entries", 50);
  const bobLedgerBefore = await listAll(bob, "/v1/payments/ledger", "entries", 50);
  expect(outboxBefore).toHaveLength(220);
  const totalsBefore = [await totals(alice), await totals(bob)];
  const chainBefore = await audit(alice);
  expect(chainBefore.chain.verified).toBe(true);

  expect(await retainAll(alice, bob)).toBeGreaterThan(0);
  // Old rows are gone from the Accounts' own storage…
  expect(await count(alice, "outbox")).toBe(0);
  expect(await count(alice, "ledger")).toBe(0);
  expect(await count(bob, "ledger")).toBe(0);
  const objects = async (kind: string, u: User) =>
    (await env.ARCHIVE.list({ prefix: `accounts/${u.user.id}/${kind}/` })).objects.length;
  expect(await objects("outbox", alice)).toBe(2); // 200 + 20 rows
  expect(await objects("ledger", alice)).toBeGreaterThanOrEqual(4); // topup + 3 entries per send
  // …balances and totals never depended on them…
  expect([await totals(alice), await totals(bob)]).toEqual(totalsBefore);
  // …and the same API pages read them back from R2, for several page sizes.
  for (const limit of [7, 50, 100]) {
    expect(await listAll(alice, "/v1/outbox", "messages", limit)).toEqual(outboxBefore);
    expect(await listAll(alice, "/v1/payments/ledger", "entries", limit)).toEqual(ledgerBefore);
  }
  expect(await listAll(bob, "/v1/payments/ledger", "entries", 30)).toEqual(bobLedgerBefore);
  // The audit chain is whole from genesis, with the same head.
  const chainAfter = await audit(alice);
  expect(chainAfter.chain).toEqual(chainBefore.chain);
  expect(chainAfter.entries).toEqual(chainBefore.entries);

  // A retried send of an archived message is still recognised (charged once).
  const again = await send(alice, bob, "out 3", {}, "reto-3");
  expect(again.status).toBe(201);
  expect(again.headers.get("idempotent-replayed")).toBe("true");
  expect([await totals(alice), await totals(bob)]).toEqual(totalsBefore);

  // New activity goes on after the archived entries: ids, chain and conservation.
  expect((await send(alice, bob, "after retention")).status).toBe(201);
  await settled(alice, bob);
  const [a, b] = [await totals(alice), await totals(bob)];
  const sum = (t: typeof a) => BigInt(t.balance) + BigInt(t.held) + BigInt(t.fees);
  expect(sum(a) + sum(b)).toBe(1_000_000_000n);
  expect(BigInt(a.balance)).toBe(BigInt(totalsBefore[0].balance) - 1_025_000n);
  const top = await api("GET", "/v1/payments/ledger?limit=1", { token: alice.accessToken });
  expect(Number(top.body.entries[0].id)).toBeGreaterThan(Number(ledgerBefore[0].id));
  const grown = await audit(alice);
  expect(grown.chain.verified).toBe(true);
  expect(grown.chain.count).toBe(chainBefore.chain.count + 3);
  const out = await api("GET", "/v1/outbox?limit=1", { token: alice.accessToken });
  expect(out.body.messages[0].body).toBe("after retention");
});

it("keeps open holds and escrows live; archived_ids is pruned past the idempotency horizon", {
  timeout: 120_000,
}, async () => {
  const alice = await funded("100000000", "retq");
  const bob = await funded("0", "retr");
  await api("PUT", "/v1/me/pricing", {
    token: bob.accessToken,
    body: { defaultPrice: "1000000", firstContactPrice: "1000000", returnDiscountBps: 0, settlement: "on_reply" },
  });
  const escrowed = await send(alice, bob, "escrowed");
  expect(escrowed.status).toBe(201);
  await api("PUT", "/v1/me/pricing", {
    token: bob.accessToken,
    body: { defaultPrice: "1000000", firstContactPrice: "1000000", returnDiscountBps: 0, settlement: "instant" },
  });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await send(alice, bob, `plain ${i}`, {}, `retq-${i}`);
    expect(r.status).toBe(201);
    ids.push(r.body.messageId);
  }
  await settled(alice, bob);
  await retainAll(alice, bob);
  // The escrowed message stays live on both sides (its outcome may still change it).
  const live = (u: User, table: string) =>
    runInDurableObject(env.ACCOUNT.getByName(u.user.id), (_a: Account, state) =>
      state.storage.sql.exec(`SELECT message_id, status FROM ${table}`).toArray(),
    );
  expect(await live(alice, "outbox")).toEqual([{ message_id: escrowed.body.messageId, status: "escrowed" }]);
  expect((await live(bob, "inbox")).map((r) => r.message_id)).toEqual([escrowed.body.messageId]);
  expect(await count(bob, "archived_ids")).toBe(5);

  // Two of the archived ids are past the horizon: pruned; the other three stay.
  const stub = env.ACCOUNT.getByName(bob.user.id);
  await runInDurableObject(stub, (_a: Account, state) => {
    state.storage.sql.exec(
      "UPDATE archived_ids SET created_at = created_at - ? WHERE message_id IN (?, ?)",
      91 * DAY,
      ids[0],
      ids[1],
    );
  });
  await stub.archiveOldMessages();
  expect(await count(bob, "archived_ids")).toBe(3);
  // Pruned ids still show in inbox pages (the chunk index places them), only their direct link is gone.
  const pages = await allPages(bob, 2);
  expect(pages.map((m) => m.messageId)).toEqual([...ids].reverse().concat(escrowed.body.messageId));
  expect((await api("GET", `/v1/inbox/${ids[0]}`, { token: bob.accessToken })).status).toBe(404);
  expect((await api("GET", `/v1/inbox/${ids[2]}`, { token: bob.accessToken })).status).toBe(200);
  // Within the horizon a retried send is still a replay.
  const again = await send(alice, bob, "plain 2", {}, "retq-2");
  expect(again.headers.get("idempotent-replayed")).toBe("true");
});
