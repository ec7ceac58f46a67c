// Randomized runs for the escrow and capacity rules (issue #11): senders try to
// defeat pay-on-reply escrow (block the replier, price themselves out, close their
// inbox), broke senders hammer recipients under production-like limits, and
// recipients reply. Afterwards: nothing is lost (conservation on the Accounts), and
// every recipient who answered an escrowed message in time was paid.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { api } from "./helpers";
import { funded, send, setPricing, totals, type User } from "./send-helpers";

const SEEDS = [11, 2026];
const USERS = 8;
const OPS = 120;

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

const stub = (u: User) => env.ACCOUNT.getByName(u.user.id);

async function quiet(users: User[]) {
  for (let i = 0; i < 200; i++) {
    const open = await Promise.all(
      users.map((u) =>
        runInDurableObject(
          stub(u),
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

async function conserved(users: User[], topups: bigint, withdrawals: bigint) {
  const all = await Promise.all(users.map(totals));
  const sum = (k: keyof (typeof all)[number]) => all.reduce((acc, t) => acc + BigInt(t[k]), 0n);
  expect(sum("topups")).toBe(topups);
  expect(sum("withdrawals")).toBe(withdrawals);
  expect(sum("balance") + sum("held") + sum("fees")).toBe(topups - withdrawals);
}

for (const seed of SEEDS) {
  it(`escrow pays every recipient who answered, and conserves money (seed ${seed})`, { timeout: 120_000 }, async () => {
    const rand = prng(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const users: User[] = [];
    for (let i = 0; i < USERS; i++) users.push(await funded("0", `ec${seed % 100}_${i}`));
    const broke = await funded("0", `ecz${seed % 100}`); // never funded
    let topups = 0n;
    for (const u of users) {
      // Production-like limits, so capacity is actually contended.
      await runInDurableObject(stub(u), (a: Account) => {
        a.rateLimitOverride = { send: { perMinute: 30, burst: 10 }, receive: { perMinute: 120, burst: 30 } };
      });
      if (rand() < 0.7) {
        const amount = BigInt(5_000_000 + Math.floor(rand() * 20_000_000));
        expect(
          (await api("POST", "/v1/payments/topup", { token: u.accessToken, body: { amount: `${amount}` } })).status,
        ).toBe(200);
        topups += amount;
      }
      await setPricing(u, {
        settlement: rand() < 0.7 ? "on_reply" : "instant",
        defaultPrice: `${Math.floor(rand() * 2_000_000)}`,
      });
    }
    /** Escrowed messages (by id) and the recipient, with whether a free reply was delivered. */
    const escrowed = new Map<string, { from: User; to: User; answered: boolean }>();

    const op = async () => {
      const r = rand();
      const u = pick(users);
      if (r < 0.12) {
        // A sender tries to defeat the escrow it paid into.
        const others = [...escrowed.values()].filter((e) => e.from === u);
        if (!others.length) return;
        const e = pick(others);
        const how = rand();
        if (how < 0.4) await api("PUT", `/v1/me/blocklist/${e.to.handle}`, { token: u.accessToken });
        else if (how < 0.8)
          await setPricing(u, { defaultPrice: `${2n ** 96n - 1n}`, firstContactPrice: `${2n ** 96n - 1n}` });
        else
          await runInDurableObject(stub(u), (a: Account) => {
            (a as unknown as { s: { receiveBucket: object } }).s.receiveBucket = { tokens: -1000, at: Date.now() };
          });
      } else if (r < 0.35) {
        const res = await send(broke, u, "let me in");
        expect([402, 429]).toContain(res.status);
      } else if (r < 0.6) {
        const inbox = await api("GET", "/v1/inbox?limit=20", { token: u.accessToken });
        const m = pick((inbox.body.messages as { messageId: string; status: string }[]).filter(Boolean));
        if (!m) return;
        const res = await api("POST", `/v1/inbox/${m.messageId}/reply`, { token: u.accessToken, body: { body: "re" } });
        const e = escrowed.get(m.messageId);
        if (e && m.status === "escrowed" && !e.answered) {
          // The first reply to an escrowed message always goes through, free.
          expect(res.status).toBe(201);
          expect(res.body.total).toBe("0");
          e.answered = true;
        } else expect([201, 402, 403, 409, 429]).toContain(res.status);
      } else {
        const to = pick(users.filter((x) => x !== u));
        const res = await send(u, to, `m${Math.floor(rand() * 1e9)}`);
        expect([201, 402, 403, 409, 429]).toContain(res.status);
        if (res.status === 201 && res.body.status === "escrowed") {
          escrowed.set(res.body.messageId, { from: u, to, answered: false });
        }
      }
    };
    // Concurrency within a sender is fine; replies to one message are serialized by the test's bookkeeping.
    for (let done = 0; done < OPS; done++) await op();

    await quiet([...users, broke]);
    await conserved([...users, broke], topups, 0n);

    // Let every window pass and run the alarms: refunds and release notices go out.
    for (const u of users) {
      await runInDurableObject(stub(u), (_a: Account, state) => {
        state.storage.sql.exec("UPDATE inbox SET escrow_until = 0 WHERE escrow_state = 'held'");
      });
    }
    for (let round = 0; round < 5; round++) for (const u of users) await runDurableObjectAlarm(stub(u));
    await conserved([...users, broke], topups, 0n);

    expect(escrowed.size).toBeGreaterThan(5);
    expect([...escrowed.values()].some((e) => e.answered)).toBe(true);
    for (const [messageId, e] of escrowed) {
      const m = await api("GET", `/v1/inbox/${messageId}`, { token: e.to.accessToken });
      // Answered → released to the recipient; unanswered → refunded to the sender.
      expect({ messageId, status: m.body.status }).toEqual({ messageId, status: e.answered ? "released" : "refunded" });
      const out = await api("GET", "/v1/outbox?limit=200", { token: e.from.accessToken });
      const mine = out.body.messages.find((x: { messageId: string }) => x.messageId === messageId);
      expect(mine.status).toBe(e.answered ? "released" : "refunded");
    }
  });
}
