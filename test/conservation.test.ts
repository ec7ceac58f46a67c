// Conservation: Σ topups − Σ withdrawals = Σ balances + Σ held + Σ fees, after a
// randomized run of mixed operations across many users — checked from the
// Accounts themselves, from the D1 totals rows once the index queue drains, and
// from the R2 archive of flushed batches. (This file has its own storage, so D1
// and the archive hold only these users.)
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import type { FlushBatch } from "../durable-objects/account/outbox-flush";
import { api } from "./helpers";
import { funded, send, totals, type User } from "./send-helpers";

const SEED = 20261122; // change to explore; a failure names the seed in the test title
const USERS = 12;
const OPS = 320;

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function accountSums(users: User[]) {
  const all = await Promise.all(users.map(totals));
  const s = (k: keyof (typeof all)[number]) => all.reduce((acc, t) => acc + BigInt(t[k]), 0n);
  return {
    topups: s("topups"),
    withdrawals: s("withdrawals"),
    balances: s("balance"),
    held: s("held"),
    fees: s("fees"),
  };
}

async function quiet(users: User[]) {
  // Open holds settle in waitUntil; escrows stay held (they count in `held`).
  for (let i = 0; i < 200; i++) {
    const open = await Promise.all(
      users.map((u) =>
        runInDurableObject(
          env.ACCOUNT.getByName(u.user.id),
          (_a: Account, state) =>
            state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE hold_state = 'held'").one().n,
        ),
      ),
    );
    if (open.every((n) => n === 0)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("holds did not settle");
}

it(`conserves money over ${OPS} random operations (seed ${SEED})`, { timeout: 120_000 }, async () => {
  const rand = prng(SEED);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const users: User[] = [];
  for (let i = 0; i < USERS; i++) users.push(await funded("0", `cons${i}`));

  let topups = 0n;
  let withdrawals = 0n;
  const keys: { from: User; to: User; body: string; key: string }[] = [];
  const tally = { sent: 0, refused: 0 };

  const op = async () => {
    const r = rand();
    const u = pick(users);
    if (r < 0.15) {
      const amount = BigInt(1 + Math.floor(rand() * 5_000_000));
      const res = await api("POST", "/v1/payments/topup", { token: u.accessToken, body: { amount: `${amount}` } });
      expect(res.status).toBe(200);
      topups += amount;
    } else if (r < 0.23) {
      const amount = BigInt(1 + Math.floor(rand() * 3_000_000));
      const res = await api("POST", "/v1/payments/withdraw", { token: u.accessToken, body: { amount: `${amount}` } });
      expect([200, 402]).toContain(res.status);
      if (res.status === 200) withdrawals += amount;
    } else if (r < 0.28) {
      const settlement = rand() < 0.3 ? "on_reply" : "instant";
      const res = await api("PUT", "/v1/me/pricing", {
        token: u.accessToken,
        body: {
          defaultPrice: `${Math.floor(rand() * 2_000_000)}`,
          firstContactPrice: `${Math.floor(rand() * 3_000_000)}`,
          returnDiscountBps: Math.floor(rand() * 10_001),
          settlement,
        },
      });
      expect(res.status).toBe(200);
    } else if (r < 0.31) {
      const other = pick(users.filter((x) => x !== u));
      const path = rand() < 0.5 ? `/v1/me/allowlist/${other.handle}` : `/v1/me/blocklist/${other.handle}`;
      const method = rand() < 0.6 ? "PUT" : "DELETE";
      const body =
        path.includes("allowlist") && method === "PUT" ? { discountBps: Math.floor(rand() * 10_001) } : undefined;
      const res = await api(method, path, { token: u.accessToken, body });
      expect([200, 204]).toContain(res.status);
    } else if (r < 0.41) {
      const inbox = await api("GET", "/v1/inbox?limit=20", { token: u.accessToken });
      if (inbox.body.messages.length === 0) return;
      const m = pick(inbox.body.messages as { messageId: string }[]);
      const res = await api("POST", `/v1/inbox/${m.messageId}/reply`, { token: u.accessToken, body: { body: "re" } });
      expect([201, 402, 403, 409]).toContain(res.status);
      tally[res.status === 201 ? "sent" : "refused"]++;
    } else if (r < 0.46 && keys.length) {
      // Replay an earlier request by its key: never charged twice.
      const k = pick(keys);
      const res = await send(k.from, k.to, k.body, {}, k.key);
      expect([201, 402, 403, 409]).toContain(res.status);
      // A replay answers 201 too (marked Idempotent-Replayed); otherwise the first attempt was refused and this one is new.
      if (res.status === 201 && !res.headers.get("idempotent-replayed")) tally.sent++;
    } else {
      const to = pick(users.filter((x) => x !== u));
      const body = `m${Math.floor(rand() * 1e9)}`;
      const key = rand() < 0.3 ? `k${Math.floor(rand() * 1e9)}` : undefined;
      const extra = rand() < 0.1 ? { maxPrice: `${Math.floor(rand() * 1_000_000)}` } : {};
      const res = await send(u, to, body, extra, key);
      expect([201, 402, 403, 409]).toContain(res.status);
      tally[res.status === 201 ? "sent" : "refused"]++;
      if (key) keys.push({ from: u, to, body, key });
    }
  };

  for (let done = 0; done < OPS; done += 8) await Promise.all(Array.from({ length: 8 }, op));
  expect(tally.sent).toBeGreaterThan(50);

  await quiet(users);
  let sums = await accountSums(users);
  expect(sums.topups).toBe(topups);
  expect(sums.withdrawals).toBe(withdrawals);
  expect(sums.balances + sums.held + sums.fees).toBe(topups - withdrawals);

  // Let every reply window pass: escrows refund to their senders, money still conserved.
  for (const u of users) {
    await runInDurableObject(env.ACCOUNT.getByName(u.user.id), (_a: Account, state) => {
      state.storage.sql.exec("UPDATE inbox SET escrow_until = 0 WHERE escrow_state = 'held'");
    });
  }
  for (let round = 0; round < 5; round++)
    for (const u of users) await runDurableObjectAlarm(env.ACCOUNT.getByName(u.user.id));
  sums = await accountSums(users);
  expect(sums.balances + sums.held + sums.fees).toBe(topups - withdrawals);

  // The D1 totals converge on the same sums once the index queue drains.
  let mirror: Record<string, string | number | boolean> = {};
  for (let i = 0; i < 200; i++) {
    mirror = (await api("GET", "/v1/ops/ledger-summary", { token: env.ADMIN_TOKEN })).body;
    if (mirror.accounts === USERS && mirror.balances === `${sums.balances}` && mirror.held === `${sums.held}`) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(mirror).toMatchObject({
    topups: `${topups}`,
    withdrawals: `${withdrawals}`,
    balances: `${sums.balances}`,
    held: `${sums.held}`,
    fees: `${sums.fees}`,
    conserved: true,
  });
  // D1 holds one totals row per Account and nothing per message or entry; the
  // R2 archive holds every flushed batch once, and its ledger re-derives each balance.
  const archive = await readArchive(users.map((u) => u.user.id));
  for (const u of users) {
    const { batches, ledger } = archive.get(u.user.id) ?? { batches: [], ledger: [] };
    expect(batches).toEqual(batches.map((_, i) => i + 1)); // 1…n, no gaps, no duplicates
    expect(ledger.map((e) => e.id)).toEqual(ledger.map((_, i) => i + 1));
    let balance = 0n;
    let held = 0n;
    for (const e of ledger) {
      balance += BigInt(e.dBalance);
      held += BigInt(e.dHeld);
      expect(e.balanceAfter).toBe(`${balance}`);
    }
    const t = await totals(u);
    expect([`${balance}`, `${held}`]).toEqual([t.balance, t.held]);
  }
  const messageIds = new Set([...archive.values()].flatMap((a) => a.messages));
  expect(messageIds.size).toBe(tally.sent);
});

/** Every archived batch of these Accounts, once their archives have caught up with their ledgers. */
async function readArchive(accountIds: string[]) {
  type Entry = { id: number; dBalance: string; dHeld: string; balanceAfter: string };
  const out = new Map<string, { batches: number[]; ledger: Entry[]; messages: string[] }>();
  for (const id of accountIds) {
    const stub = env.ACCOUNT.getByName(id);
    for (let i = 0; ; i++) {
      const want = await runInDurableObject(stub, (_a: Account, state) => {
        return state.storage.sql.exec<{ n: number }>("SELECT COALESCE(MAX(id), 0) AS n FROM ledger").one().n;
      });
      const listed = await env.ARCHIVE.list({ prefix: `accounts/${id}/batches/` });
      const bodies = await Promise.all(
        listed.objects.map(async (o) => (await env.ARCHIVE.get(o.key))?.json<FlushBatch>() as Promise<FlushBatch>),
      );
      const ledger = bodies.flatMap((b) => b.ledger);
      if (ledger.length >= want || i > 200) {
        out.set(id, {
          batches: bodies.map((b) => b.seq),
          ledger,
          messages: bodies.flatMap((b) => b.messages.map((m) => m.messageId)),
        });
        break;
      }
      await stub.flush();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return out;
}

it("refuses the ops summary without the admin token", async () => {
  expect((await api("GET", "/v1/ops/ledger-summary")).status).toBe(401);
  expect((await api("GET", "/v1/ops/ledger-summary", { token: "nope" })).status).toBe(401);
});
