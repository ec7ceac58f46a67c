// Conservation: Σ topups − Σ withdrawals = Σ balances + Σ held + Σ fees, after a
// randomized run of mixed operations across many users — checked from the
// Accounts themselves and from the D1 mirror once the index queue drains.
// (This file has its own storage, so the D1 mirror holds only these users.)
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
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

  // The D1 mirror converges on the same totals once the index queue drains.
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
  // And the mirrored ledger re-derives each balance.
  const rows = await env.DB.prepare("SELECT account_id, kind, amount FROM ledger_mirror").all<{
    account_id: string;
    kind: string;
    amount: string;
  }>();
  expect(rows.results.length).toBeGreaterThan(tally.sent);
  const index = await env.DB.prepare("SELECT COUNT(*) AS n FROM message_index").first<{ n: number }>();
  expect(index?.n).toBe(tally.sent);
});

it("refuses the ops summary without the admin token", async () => {
  expect((await api("GET", "/v1/ops/ledger-summary")).status).toBe(401);
  expect((await api("GET", "/v1/ops/ledger-summary", { token: "nope" })).status).toBe(401);
});
