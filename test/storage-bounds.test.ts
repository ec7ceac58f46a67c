// An Account's own storage stays bounded (issue #13): what it keeps only to
// recognise retries — top-up/withdraw Idempotency-Keys, tombstones of aborted
// messages, applied vault events — is pruned past its horizon by the alarm's
// sweep (durable-objects/account/storage-bounds.ts), and within the horizon it
// still protects.
import { env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { api } from "./helpers";
import { funded, totals, type User } from "./send-helpers";

const DAY = 86_400_000;

const rows = (u: User, query: string, ...args: SqlStorageValue[]) =>
  runInDurableObject(env.ACCOUNT.getByName(u.user.id), (_a: Account, state) =>
    state.storage.sql.exec(query, ...args).toArray(),
  );

const age = (u: User, query: string, ...args: SqlStorageValue[]) =>
  runInDurableObject(env.ACCOUNT.getByName(u.user.id), (_a: Account, state) => {
    state.storage.sql.exec(query, ...args);
  });

const topup = (u: User, amount: string, key: string) =>
  api("POST", "/v1/payments/topup", { token: u.accessToken, body: { amount }, headers: { "idempotency-key": key } });

it("top-up Idempotency-Keys past 90 days are pruned; a key within the horizon still replays", async () => {
  const u = await funded("0", "bndi");
  for (const key of ["old-1", "old-2", "recent"]) expect((await topup(u, "100", key)).status).toBe(200);
  await age(u, "UPDATE idempotency SET created_at = created_at - ? WHERE key LIKE 'old-%'", 91 * DAY);
  await env.ACCOUNT.getByName(u.user.id).archiveOldMessages();
  expect((await rows(u, "SELECT key FROM idempotency")).map((r) => r.key)).toEqual(["recent"]);

  // Within the horizon: the same key replays (nothing credited) and a different body conflicts.
  const replay = await topup(u, "100", "recent");
  expect(replay.status).toBe(200);
  expect(replay.headers.get("idempotent-replayed")).toBe("true");
  expect((await topup(u, "999", "recent")).status).toBe(409);
  expect((await totals(u)).balance).toBe("300");
  // Past it: the key is a new request.
  const again = await topup(u, "100", "old-1");
  expect(again.status).toBe(200);
  expect(again.headers.get("idempotent-replayed")).toBeNull();
  expect((await totals(u)).balance).toBe("400");
});

it("tombstones past 90 days are pruned; a recent one still refuses the aborted message", async () => {
  const bob = await funded("0", "bndt");
  const stub = env.ACCOUNT.getByName(bob.user.id);
  const [oldId, recentId] = [`0x${"a1".repeat(32)}`, `0x${"b2".repeat(32)}`];
  // The sender's alarm asked about two holds this Account never received: both tombstoned.
  expect(await stub.resolve(oldId)).toEqual({ state: "aborted" });
  expect(await stub.resolve(recentId)).toEqual({ state: "aborted" });
  await age(bob, "UPDATE tombstones SET created_at = created_at - ? WHERE message_id = ?", 91 * DAY, oldId);
  await stub.archiveOldMessages();
  expect((await rows(bob, "SELECT message_id FROM tombstones")).map((r) => r.message_id)).toEqual([recentId]);

  // A late receive of the recent one is still refused before anything is charged.
  const late = (messageId: string) =>
    stub.receive({
      messageId: messageId as `0x${string}`,
      senderId: "nobody-sends-this",
      recipientId: bob.user.id,
      expectHandle: null,
      body: "late",
      maxPrice: null,
      requestHash: "h",
      inReplyTo: null,
      freeReply: false,
      abuse: null,
    });
  expect(await late(recentId)).toEqual({ ok: false, code: "message_aborted" });
  // Past the horizon the id is no longer remembered: the send goes on to the sender (who cannot pay).
  expect(await late(oldId)).toMatchObject({ ok: false, code: "insufficient_balance" });
});

it("applied vault events: pruned after 30 days behind a block floor, so a reindex still applies each once", async () => {
  const u = await funded("0", "bndc");
  const stub = env.ACCOUNT.getByName(u.user.id);
  const deposit = (n: number, block: number) =>
    stub.chainApply({ t: "deposit", ref: `0x${n.toString(16).padStart(64, "0")}:0`, amount: "10", block });
  for (const [n, block] of [
    [1, 100],
    [2, 120],
    [3, 300],
  ])
    expect(await deposit(n, block)).toEqual({ applied: true });
  // The Account's own refs (no block) are pruned by age alone.
  await stub.chainApply({ t: "failed_in", ref: "failed:0xold", messageId: `0x${"c3".repeat(32)}`, reason: "x" });
  await age(u, "UPDATE chain_applied SET applied_at = applied_at - ? WHERE block <= 120 OR block IS NULL", 31 * DAY);
  await stub.archiveOldMessages();
  expect(await rows(u, "SELECT ref, block FROM chain_applied")).toEqual([
    { ref: `0x${(3).toString(16).padStart(64, "0")}:0`, block: 300 },
  ]);
  expect(await rows(u, "SELECT applied_floor FROM chain")).toEqual([{ applied_floor: 120 }]);

  // A reindex from genesis hands every event in again: nothing is applied twice.
  for (const [n, block] of [
    [1, 100],
    [2, 120],
    [3, 300],
  ])
    expect(await deposit(n, block)).toEqual({ applied: false });
  expect((await totals(u)).deposits).toBe("30");
  // An event above the floor that was never applied is applied, once.
  expect(await deposit(4, 200)).toEqual({ applied: true });
  expect(await deposit(4, 200)).toEqual({ applied: false });
  expect((await totals(u)).deposits).toBe("40");
});

it("the alarm wakes for the oldest guard row even when no history is left to archive", async () => {
  const u = await funded("0", "bnda");
  expect((await topup(u, "5", "only")).status).toBe(200);
  const stub = env.ACCOUNT.getByName(u.user.id);
  // Due in half a day; the ledger (the only history) as if it had moved to R2 long ago.
  await age(u, "UPDATE idempotency SET created_at = ?", Date.now() - 89.5 * DAY);
  await stub.flush();
  await age(u, "DELETE FROM ledger");
  const next = await runInDurableObject(stub, async (a: Account, state) => {
    await state.storage.deleteAlarm();
    await a.alarm();
    return state.storage.getAlarm();
  });
  expect(next).not.toBeNull();
  expect(next as number).toBeLessThanOrEqual(Date.now() + DAY);
});
