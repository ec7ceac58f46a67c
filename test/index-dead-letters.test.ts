// A flush batch that used up its retries on the `index` queue arrives on
// `index-dlq`. The Account no longer has it, so it must end up in the R2 archive
// (tried again at once) or in `dead_letters` for an operator to redrive — never
// dropped, and never purged before it is redriven.
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { archiveKey, type FlushBatch } from "../durable-objects/account/outbox-flush";
import worker from "../worker/index";
import { purgeExpired } from "../worker/maintenance";
import { consumeIndexDeadLetters } from "../worker/queues/index-dead-letters";
import { api } from "./helpers";
import { waitFor } from "./rails-helpers";

const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const accounts: string[] = [];

/** A batch as an Account freezes it; its totals conserve (500 in = 400 balance + 100 fees). */
function batch(accountId: string, seq = 1): FlushBatch {
  accounts.push(accountId);
  return {
    v: 1,
    accountId,
    seq,
    frozenAt: 1_750_000_000_000 + seq,
    ledger: [],
    messages: [
      {
        messageId: `m_${accountId}_${seq}`,
        senderId: "u_someone",
        recipientId: accountId,
        price: "100",
        fee: "10",
        status: "delivered",
        createdAt: 1_750_000_000_000,
        updatedAt: 1_750_000_000_000,
      },
    ],
    totals: { seq, balance: "400", held: "0", fees: "100", topups: "500", deposits: "0", withdrawals: "0" },
  };
}

/** The real archive, except that every write fails (an R2 outage). */
function failingArchive(): R2Bucket {
  const down = async () => {
    throw new Error("R2 unavailable");
  };
  return {
    head: down,
    put: down,
    get: (key: string) => env.ARCHIVE.get(key),
    list: (o?: R2ListOptions) => env.ARCHIVE.list(o),
  } as unknown as R2Bucket;
}

/** Hands one batch to the Worker's queue handler as the `index-dlq` consumer. */
async function deliverToDlq(b: FlushBatch, bindings: Env = env) {
  const mb = createMessageBatch<FlushBatch>("index-dlq", [
    { id: `dlq-${b.accountId}-${b.seq}`, timestamp: new Date(), attempts: 1, body: b },
  ]);
  const ctx = createExecutionContext();
  await (worker.queue as ExportedHandlerQueueHandler<Env>)(mb as MessageBatch<unknown>, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return getQueueResult(mb, ctx);
}

const archived = async (accountId: string) =>
  (await env.ARCHIVE.list({ prefix: `accounts/${accountId}/batches/` })).objects.map((o) => o.key);
const totalsSeq = async (accountId: string) =>
  (await env.DB.prepare("SELECT seq FROM account_totals WHERE account_id = ?").bind(accountId).first<{ seq: number }>())
    ?.seq ?? null;
const deadLetterRows = (accountId: string) =>
  env.DB.prepare("SELECT id, key, channel, user_id, job, last_error, redriven_at FROM dead_letters WHERE user_id = ?")
    .bind(accountId)
    .all<{
      id: number;
      key: string;
      channel: string;
      user_id: string;
      job: string;
      last_error: string | null;
      redriven_at: number | null;
    }>()
    .then((r) => r.results);

afterAll(async () => {
  // Other files sum every totals row (ledger-summary, conservation): leave none behind.
  for (const id of accounts) {
    await env.DB.prepare("DELETE FROM account_totals WHERE account_id = ?").bind(id).run();
    await env.DB.prepare("DELETE FROM dead_letters WHERE user_id = ?").bind(id).run();
  }
});

describe("index-dlq", () => {
  it("archives a dead-lettered batch once R2 works again: totals written, acked, no dead letter", async () => {
    const b = batch("u_dlqok");
    const result = await deliverToDlq(b);
    expect(result.explicitAcks).toEqual(["dlq-u_dlqok-1"]);
    expect(result.retryMessages).toEqual([]);
    expect(await archived(b.accountId)).toEqual([archiveKey(b)]);
    expect(await (await env.ARCHIVE.get(archiveKey(b)))?.json()).toEqual(b);
    expect(await totalsSeq(b.accountId)).toBe(1);
    expect(await deadLetterRows(b.accountId)).toEqual([]);

    // Delivered again (the queue is at-least-once): still one object, untouched.
    const etag = (await env.ARCHIVE.head(archiveKey(b)))?.etag;
    expect((await deliverToDlq(b)).explicitAcks).toHaveLength(1);
    expect(await archived(b.accountId)).toEqual([archiveKey(b)]);
    expect((await env.ARCHIVE.head(archiveKey(b)))?.etag).toBe(etag);
  });

  it("records a batch R2 still refuses as an `index` dead letter and acks it; redrive archives it once", async () => {
    const b = batch("u_dlqdown", 3);
    const down = await deliverToDlq(b, { ...env, ARCHIVE: failingArchive() });
    expect(down.explicitAcks).toEqual(["dlq-u_dlqdown-3"]);
    expect(down.retryMessages).toEqual([]);
    expect(await archived(b.accountId)).toEqual([]);
    // Totals wait for the archive (D1 never runs ahead of it).
    expect(await totalsSeq(b.accountId)).toBe(null);
    const [row, ...more] = await deadLetterRows(b.accountId);
    expect(more).toEqual([]);
    expect(row).toMatchObject({
      key: archiveKey(b),
      channel: "index",
      user_id: b.accountId,
      last_error: "archive: Error",
      redriven_at: null,
    });
    expect(JSON.parse(row.job)).toEqual(b);

    // Ops lists it (`npm run ops -- dlq` reads the same table).
    const listed = await api("GET", "/v1/ops/deliveries/dead-letters", { headers: admin });
    expect(listed.body.deadLetters).toContainEqual(
      expect.objectContaining({ id: row.id, channel: "index", key: archiveKey(b), userId: b.accountId }),
    );

    // R2 is back: redrive sends it to the `index` queue, whose real consumer archives it.
    const redrive = await api("POST", "/v1/ops/deliveries/redrive", { headers: admin, body: { ids: [row.id] } });
    expect(redrive.body).toEqual({ redriven: 1 });
    expect(
      await waitFor(
        () => archived(b.accountId),
        (keys) => keys.length > 0,
        20_000,
      ),
    ).toEqual([archiveKey(b)]);
    expect(await (await env.ARCHIVE.get(archiveKey(b)))?.json()).toEqual(b);
    expect(
      await waitFor(
        () => totalsSeq(b.accountId),
        (s) => s !== null,
        20_000,
      ),
    ).toBe(3);
    expect((await deadLetterRows(b.accountId))[0].redriven_at).toEqual(expect.any(Number));
    // Once: a second redrive of the same letter sends nothing.
    const again = await api("POST", "/v1/ops/deliveries/redrive", { headers: admin, body: { ids: [row.id] } });
    expect(again.body).toEqual({ redriven: 0 });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await archived(b.accountId)).toEqual([archiveKey(b)]);
  });

  it("retries, not acks, when neither R2 nor D1 can take the batch", async () => {
    const b = batch("u_dlqd1");
    const fail = () => {
      throw new Error("D1 unavailable");
    };
    const db = { prepare: fail, batch: async () => fail() } as unknown as D1Database;
    const mb = createMessageBatch<FlushBatch>("index-dlq", [
      { id: "dlq-d1", timestamp: new Date(), attempts: 1, body: b },
    ]);
    const ctx = createExecutionContext();
    await consumeIndexDeadLetters(mb, { ...env, ARCHIVE: failingArchive(), DB: db });
    const result = await getQueueResult(mb, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: "dlq-d1" }]);
    expect(await deadLetterRows(b.accountId)).toEqual([]);
  });
});

it("the retention purge keeps an `index` dead letter until it is redriven", async () => {
  const old = Date.now() - 400 * 86_400_000;
  const insert = (key: string, channel: string, redrivenAt: number | null) =>
    env.DB.prepare(
      "INSERT INTO dead_letters (key, channel, user_id, job, created_at, redriven_at) VALUES (?, ?, 'u_dlqpurge', '{}', ?, ?)",
    ).bind(key, channel, old, redrivenAt);
  accounts.push("u_dlqpurge");
  await env.DB.batch([
    insert("purge-waiting", "index", null),
    insert("purge-redriven", "index", old),
    insert("purge-webhook", "webhook", null),
  ]);
  await purgeExpired(env);
  expect((await deadLetterRows("u_dlqpurge")).map((r) => r.key)).toEqual(["purge-waiting"]);
});
