import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { api } from "./helpers";
import { funded, send, setPricing, settled, totals, type User } from "./send-helpers";

const stub = (u: User) => env.ACCOUNT.getByName(u.user.id);

/** Moves a recipient's escrow windows into the past, as if the hours had passed. */
async function expireWindows(u: User) {
  await runInDurableObject(stub(u), (instance: Account, state) => {
    void instance;
    state.storage.sql.exec("UPDATE inbox SET escrow_until = ? WHERE escrow_state = 'held'", Date.now() - 1);
  });
}

async function outboxStatus(u: User, messageId: string): Promise<string> {
  const r = await api("GET", "/v1/outbox", { token: u.accessToken });
  return r.body.messages.find((m: { messageId: string }) => m.messageId === messageId)?.status;
}

/** Runs the Account's alarm by hand (if one is set) and waits for its effects to show. */
async function untilStatus(u: User, other: User, messageId: string, status: string) {
  for (let i = 0; i < 50; i++) {
    if ((await outboxStatus(u, messageId)) === status) return;
    await runDurableObjectAlarm(stub(other));
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`status never became ${status}`);
}

describe("escrow (settlement: on_reply)", () => {
  it("holds the price until the recipient replies, then releases it to them", async () => {
    const alice = await funded("10000000", "ea");
    const bob = await funded("5000000", "eb");
    await setPricing(bob, { defaultPrice: "2000000", firstContactPrice: "2000000", settlement: "on_reply" });

    const sent = await send(alice, bob, "please reply");
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ status: "escrowed", price: "2000000", fee: "50000", total: "2050000" });
    await settled(alice);
    expect(await totals(alice)).toMatchObject({ balance: "7950000", held: "0" });
    expect(await totals(bob)).toMatchObject({ balance: "5000000", held: "2000000", fees: "50000" });
    const bobMe = await api("GET", "/v1/me", { token: bob.accessToken });
    expect(bobMe.body).toMatchObject({ balance: "5000000", held: "2000000" });
    const inbox = await api("GET", `/v1/inbox/${sent.body.messageId}`, { token: bob.accessToken });
    expect(inbox.body.status).toBe("escrowed");

    // The first reply is free and releases the escrow.
    const reply = await api("POST", `/v1/inbox/${sent.body.messageId}/reply`, {
      token: bob.accessToken,
      body: { body: "here you go" },
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ price: "0", fee: "0", total: "0", status: "delivered" });
    await settled(bob);
    // Bob paid nothing for the reply and received the 2.0 held for him.
    expect(await totals(bob)).toMatchObject({ balance: `${5_000_000 + 2_000_000}`, held: "0" });
    expect((await api("GET", `/v1/inbox/${sent.body.messageId}`, { token: bob.accessToken })).body.status).toBe(
      "released",
    );
    const aliceInbox = await api("GET", "/v1/inbox", { token: alice.accessToken });
    expect(aliceInbox.body.messages[0]).toMatchObject({ body: "here you go", inReplyTo: sent.body.messageId });
    await untilStatus(alice, bob, sent.body.messageId, "released");

    // A second reply is an ordinary paid send to Alice (her default pricing: 1 USDC + fee).
    const again = await api("POST", `/v1/inbox/${sent.body.messageId}/reply`, {
      token: bob.accessToken,
      body: { body: "one more thing" },
    });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ price: "1000000", fee: "25000", status: "delivered" });
    await settled(bob);

    // Expiry later changes nothing: the escrow is closed.
    await expireWindows(bob);
    await runDurableObjectAlarm(stub(bob));
    expect((await totals(alice)).balance).toBe(`${7_950_000 + 1_000_000}`);
    expect((await totals(bob)).balance).toBe(`${7_000_000 - 1_025_000}`);
  });

  // Hostile review: the sender blocked the recipient, priced itself at 2^256−1 or
  // rate-limited its inbox after an escrowed send, so the reply failed and the
  // window refunded the sender. The first reply must go through regardless.
  for (const [name, defeat] of [
    [
      "blocks the recipient",
      (a: User, b: User) => api("PUT", `/v1/me/blocklist/${b.handle}`, { token: a.accessToken }),
    ],
    [
      "prices itself out of reach",
      (a: User) =>
        setPricing(a, {
          defaultPrice: `${2n ** 96n - 1n}`,
          firstContactPrice: `${2n ** 96n - 1n}`,
          settlement: "instant",
        }),
    ],
    [
      "exhausts its own receive capacity",
      (a: User) =>
        runInDurableObject(stub(a), (instance: Account) => {
          instance.rateLimitOverride = { send: { perMinute: 1, burst: 1 }, receive: { perMinute: 1, burst: 1 } };
          // An empty bucket, refilling one token a minute.
          (instance as unknown as { s: { receiveBucket: object } }).s.receiveBucket = { tokens: 0, at: Date.now() };
        }),
    ],
  ] as const) {
    it(`pays the recipient who replies even when the sender ${name}`, async () => {
      const alice = await funded("10000000", "da");
      const bob = await funded("0", "db");
      await setPricing(bob, { defaultPrice: "2000000", firstContactPrice: "2000000", settlement: "on_reply" });
      const sent = await send(alice, bob, "answer me");
      expect(sent.status).toBe(201);
      await settled(alice);
      await defeat(alice, bob);
      // Bob has no money of his own: only a free reply can get through.
      const reply = await api("POST", `/v1/inbox/${sent.body.messageId}/reply`, {
        token: bob.accessToken,
        body: { body: "answered" },
      });
      expect(reply.status).toBe(201);
      expect(reply.body).toMatchObject({ price: "0", total: "0" });
      await settled(bob);
      await untilStatus(alice, bob, sent.body.messageId, "released");
      expect(await totals(bob)).toMatchObject({ balance: "2000000", held: "0" });
      // The window passing later refunds nothing.
      await expireWindows(bob);
      await runDurableObjectAlarm(stub(bob));
      expect(await totals(alice)).toMatchObject({ balance: `${10_000_000 - 2_050_000}`, held: "0" });
      // Only the first reply is free: the next one meets Alice's terms again.
      const second = await api("POST", `/v1/inbox/${sent.body.messageId}/reply`, {
        token: bob.accessToken,
        body: { body: "and another" },
      });
      expect([402, 403, 429]).toContain(second.status);
    });
  }

  it("refunds the price to the sender when the window passes without a reply (the fee is final)", async () => {
    const alice = await funded("10000000", "xa");
    const bob = await funded("0", "xb");
    await setPricing(bob, { settlement: "on_reply", replyWindowHours: 1 });
    const sent = await send(alice, bob, "ignored");
    await settled(alice);
    expect(await totals(bob)).toMatchObject({ held: "1000000", balance: "0" });

    await expireWindows(bob);
    expect(await runDurableObjectAlarm(stub(bob))).toBe(true);
    await untilStatus(alice, bob, sent.body.messageId, "refunded");
    expect(await totals(alice)).toMatchObject({ balance: `${10_000_000 - 25_000}`, held: "0" });
    expect(await totals(bob)).toMatchObject({ balance: "0", held: "0", fees: "25000" });
    expect((await api("GET", `/v1/inbox/${sent.body.messageId}`, { token: bob.accessToken })).body.status).toBe(
      "refunded",
    );
    const ledger = await api("GET", "/v1/payments/ledger", { token: alice.accessToken });
    expect(ledger.body.entries[0]).toMatchObject({ kind: "refund", amount: "1000000", ref: sent.body.messageId });

    // A reply after the refund pays Alice normally and releases nothing.
    const late = await api("POST", `/v1/inbox/${sent.body.messageId}/reply`, {
      token: bob.accessToken,
      body: { body: "sorry, late" },
    });
    expect(late.status).toBe(402); // Bob has no funds of his own: the refunded escrow is not his
  });

  it("does not release an escrow for a reply sent after the window", async () => {
    const alice = await funded("10000000", "la");
    const bob = await funded("5000000", "lb");
    await setPricing(bob, { settlement: "on_reply", replyWindowHours: 1 });
    const sent = await send(alice, bob, "hello");
    await settled(alice);
    await expireWindows(bob);
    // Reply before the alarm has run: too late all the same.
    const reply = await api("POST", `/v1/inbox/${sent.body.messageId}/reply`, {
      token: bob.accessToken,
      body: { body: "late" },
    });
    expect(reply.status).toBe(201);
    await settled(bob);
    expect(await totals(bob)).toMatchObject({ held: "1000000" });
    await runDurableObjectAlarm(stub(bob));
    await untilStatus(alice, bob, sent.body.messageId, "refunded");
    expect(await totals(bob)).toMatchObject({ held: "0", balance: `${5_000_000 - 1_025_000}` });
  });

  it("keeps retrying the refund notice until the sender's Account takes it", async () => {
    const alice = await funded("10000000", "ra");
    const bob = await funded("0", "rb");
    await setPricing(bob, { settlement: "on_reply", replyWindowHours: 1 });
    const sent = await send(alice, bob, "hello");
    await settled(alice);
    await runInDurableObject(stub(alice), (instance: Account) => {
      instance.faults.add("escrow_outcome:throw");
    });
    await expireWindows(bob);
    await runDurableObjectAlarm(stub(bob));
    // The notice failed: Bob still holds the money, Alice has not been credited.
    expect(await totals(bob)).toMatchObject({ held: "1000000" });
    expect((await totals(alice)).balance).toBe(`${10_000_000 - 1_025_000}`);
    await runInDurableObject(stub(alice), (instance: Account) => {
      instance.faults.clear();
    });
    await untilStatus(alice, bob, sent.body.messageId, "refunded");
    expect(await totals(bob)).toMatchObject({ held: "0" });
    expect((await totals(alice)).balance).toBe(`${10_000_000 - 25_000}`);
  });

  it("keeps a refund that reaches the sender before its own hold settled", async () => {
    const alice = await funded("10000000", "oa");
    const bob = await funded("0", "ob");
    await setPricing(bob, { settlement: "on_reply", replyWindowHours: 1 });
    await runInDurableObject(stub(alice), (instance: Account) => {
      instance.faults.add("settle:throw"); // Alice's hold stays open
    });
    const sent = await send(alice, bob, "hello");
    expect(sent.status).toBe(201);
    await runInDurableObject(stub(alice), (instance: Account) => {
      instance.faults.clear();
    });
    await expireWindows(bob);
    await runDurableObjectAlarm(stub(bob));
    await untilStatus(alice, bob, sent.body.messageId, "refunded");
    expect(await totals(alice)).toMatchObject({ held: "1025000" }); // refunded price, hold still open

    // Now Alice's alarm resolves the old hold: it settles, and the refund stands.
    await runInDurableObject(stub(alice), (_i: Account, state) => {
      state.storage.sql.exec("UPDATE outbox SET created_at = created_at - 60000 WHERE hold_state = 'held'");
    });
    await runDurableObjectAlarm(stub(alice));
    expect(await outboxStatus(alice, sent.body.messageId)).toBe("refunded");
    expect(await totals(alice)).toMatchObject({ balance: `${10_000_000 - 25_000}`, held: "0" });
    expect(await totals(bob)).toMatchObject({ balance: "0", held: "0", fees: "25000" });
  });
});
