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

  // The oldest 230 messages are 100 days old (the window is INBOX_RETENTION_DAYS = 30).
  const stub = env.ACCOUNT.getByName(bob.user.id);
  await runInDurableObject(stub, (_a: Account, state) => {
    state.storage.sql.exec("UPDATE inbox SET created_at = created_at - ? WHERE seq <= 230", 100 * DAY);
  });
  await stub.flush(); // rows move only once the index has them
  await runDurableObjectAlarm(stub);
  expect(await liveRows(bob)).toBe(30);
  const chunks = await env.ARCHIVE.list({ prefix: `accounts/${bob.user.id}/inbox/` });
  expect(chunks.objects.length).toBe(2); // 200 + 30 rows

  // Same API, same order, same content, for several page sizes (cursors cross the live/archived edge).
  const aged = (m: (typeof before)[number], i: number) =>
    i >= 30 ? { ...m, createdAt: new Date(Date.parse(m.createdAt) - 100 * DAY).toISOString() } : m;
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
