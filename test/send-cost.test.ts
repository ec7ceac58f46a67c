// What one send costs the Accounts and the index consumer, counted: SQL
// statements, flush batches, R2 calls. These are the send path's costs that
// `npm run bench` found worth cutting (docs/scaling.md "Where a send's CPU
// goes"); each test fails if the cut is undone.
import { env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { FLUSH_INTERVAL_MS, type FlushBatch, OutboxFlush } from "../durable-objects/account/outbox-flush";
import { applySettles } from "../durable-objects/account/send";
import type { AccountCore } from "../durable-objects/account/types";
import { archiveBatch } from "../worker/queues/index-consumer";
import { funded, send, settled, totals } from "./send-helpers";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` in the Account with its SQL statements counted (the object's own SqlStorage, wrapped for the call). */
async function countStatements<T>(userId: string, fn: (a: Account, sql: SqlStorage) => T | Promise<T>) {
  return runInDurableObject(env.ACCOUNT.getByName(userId), async (a: Account, state) => {
    const sql = state.storage.sql;
    const seen: string[] = [];
    const exec = sql.exec.bind(sql);
    const counting = new Proxy(sql, {
      get: (target, prop) =>
        prop === "exec"
          ? (query: string, ...args: SqlStorageValue[]) => {
              seen.push(query.replace(/\s+/g, " ").trim());
              return exec(query, ...args);
            }
          : Reflect.get(target, prop),
    });
    const result = await fn(a, counting);
    return { result, statements: seen };
  });
}

it("a settled ordinary hold costs one outbox statement (no chain-payment probe first)", async () => {
  const alice = await funded("100000000", "costa");
  const bob = await funded("0", "costb");
  const stub = env.ACCOUNT.getByName(alice.user.id);
  // The Worker's own settle fails, so the hold stays open until we settle it in a commit we watch.
  await runInDurableObject(stub, (a: Account) => a.faults.add("settle:throw"));
  const r = await send(alice, bob, "hello");
  expect(r.status).toBe(201);
  const messageId = (r.body as { messageId: string }).messageId;
  const statements = await runInDurableObject(stub, async (a: Account, state) => {
    a.faults.delete("settle:throw");
    const hold = state.storage.sql
      .exec<{ h: string }>("SELECT hold_state AS h FROM outbox WHERE message_id = ?", messageId)
      .one().h;
    expect(hold).toBe("held");
    // Settle it in a commit, as the next debit or the settle timer would, with the settle's statements counted.
    const core = (a as unknown as { core: AccountCore }).core;
    const seen: string[] = [];
    const counting = new Proxy(core.sql, {
      get: (target, prop) =>
        prop === "exec"
          ? (q: string, ...args: SqlStorageValue[]) => {
              seen.push(q.replace(/\s+/g, " ").trim());
              return target.exec(q, ...args);
            }
          : Reflect.get(target, prop),
    });
    const watched = Object.create(core, { sql: { value: counting } }) as AccountCore;
    core.commit((tx) => applySettles(watched, tx, [[messageId, "delivered"]]));
    return seen;
  });
  const outbox = statements.filter((q) => q.startsWith("UPDATE outbox"));
  expect(outbox).toHaveLength(1);
  expect(outbox[0]).toContain("settle_job IS NULL");
  await settled(alice, bob);
  expect(await totals(alice)).toMatchObject({ held: "0" });
});

it("a flush that takes everything there was does not read the empty tables again", async () => {
  const alice = await funded("100000000", "flsa");
  const bob = await funded("0", "flsb");
  await env.ACCOUNT.getByName(bob.user.id).flush();
  expect((await send(alice, bob, "hello")).status).toBe(201);
  const sent: FlushBatch[] = [];
  const { statements } = await countStatements(bob.user.id, async (_a, sql) => {
    const flush = new OutboxFlush({
      sql,
      accountId: () => bob.user.id,
      totals: () => ({ seq: 0, balance: "0", held: "0", fees: "0", topups: "0", deposits: "0", withdrawals: "0" }),
      send: async (b) => {
        sent.push(b);
      },
      wakeAt: () => {},
      notifyMinPrice: () => null,
      notifyWindowMs: () => 0,
    });
    await flush.flush();
  });
  expect(sent).toHaveLength(1);
  expect(sent[0].messages.map((m) => m.senderId)).toEqual([alice.user.id]);
  // oldestUnsent, the freeze (cursors, ledger, inbox, events, store the batch, move the cursors), forget: 8.
  // Looking again after the send (oldestUnsent + four reads of the freeze) made it 13.
  expect(statements.filter((q) => q.startsWith("SELECT"))).toHaveLength(5);
  expect(statements).toHaveLength(8);
});

it("a busy Account's timer flushes at most once per FLUSH_INTERVAL_MS; the first change after a quiet spell after ~1 s", {
  timeout: 60_000,
}, async () => {
  const alice = await funded("100000000", "busya");
  const bob = await funded("0", "busyb");
  const stub = env.ACCOUNT.getByName(bob.user.id);
  await stub.flush();
  await sleep(FLUSH_INTERVAL_MS + 200); // quiet spell: longer than the interval since bob's last batch
  const seq = () =>
    runInDurableObject(
      stub,
      (_a: Account, state) =>
        state.storage.sql.exec<{ s: number }>("SELECT flush_seq AS s FROM account WHERE id = 1").one().s,
    );
  const start = await seq();
  expect((await send(alice, bob, "first")).status).toBe(201);
  await sleep(1_600);
  expect(await seq()).toBe(start + 1); // the quiet Account's first change went out after ~1 s
  // Busy now: more messages over the next 2 s wait for the interval instead of one batch a second.
  for (let i = 0; i < 4; i++) {
    expect((await send(alice, bob, `busy ${i}`)).status).toBe(201);
    await sleep(500);
  }
  expect(await seq()).toBe(start + 1);
  await sleep(FLUSH_INTERVAL_MS);
  expect(await seq()).toBe(start + 2); // all four in one batch
});

it("the consumer archives a new batch with one R2 call (a conditional put, no head first)", async () => {
  const calls: string[] = [];
  const bucket = new Proxy(env.ARCHIVE, {
    get: (target, prop) => {
      const v = Reflect.get(target, prop);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return v.apply(target, args);
      };
    },
  });
  const batch: FlushBatch = {
    v: 1,
    accountId: "u_onecall",
    seq: 1,
    frozenAt: 1_700_000_000_001,
    ledger: [],
    messages: [],
    totals: { seq: 0, balance: "0", held: "0", fees: "0", topups: "0", deposits: "0", withdrawals: "0" },
  };
  expect(await archiveBatch(bucket, batch)).toBe(true);
  expect(calls).toEqual(["put"]);
  // A redelivery is refused by the same conditional put, still one call.
  calls.length = 0;
  expect(await archiveBatch(bucket, batch)).toBe(false);
  expect(calls).toEqual(["put"]);
});
