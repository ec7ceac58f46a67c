import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { api } from "./helpers";
import { funded, me, send, setPricing, settled, totals } from "./send-helpers";

describe("sending a paid message", () => {
  it("moves price to the recipient and the fee to the recipient's fee accrual, charging the sender both", async () => {
    const alice = await funded("10000000", "sa");
    const bob = await funded("0", "sb");
    const res = await send(alice, bob, "hi bob");
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      messageId: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      price: "1000000",
      fee: "25000",
      total: "1025000",
      status: "delivered",
      createdAt: expect.any(String),
    });
    await settled(alice);
    expect(await totals(alice)).toMatchObject({ balance: "8975000", held: "0", fees: "0" });
    expect(await totals(bob)).toMatchObject({ balance: "1000000", held: "0", fees: "25000" });
    expect(await me(bob)).toMatchObject({ balance: "1000000", held: "0" });

    const inbox = await api("GET", "/v1/inbox", { token: bob.accessToken });
    expect(inbox.body.messages).toEqual([
      {
        messageId: res.body.messageId,
        from: { id: alice.user.id, handle: alice.handle },
        body: "hi bob",
        price: "1000000",
        status: "delivered",
        createdAt: res.body.createdAt,
        readAt: null,
        txHash: null,
        inReplyTo: null,
        replyBy: null, // instant settlement: no reply window (ui2 added the field)
      },
    ]);
    const outbox = await api("GET", "/v1/outbox", { token: alice.accessToken });
    expect(outbox.body.messages[0]).toMatchObject({
      messageId: res.body.messageId,
      to: { id: bob.user.id, handle: bob.handle },
      status: "delivered",
      price: "1000000",
      fee: "25000",
    });

    // The sender's ledger re-derives the balance: topup, hold, send, fee.
    const ledger = await api("GET", "/v1/payments/ledger", { token: alice.accessToken });
    expect(ledger.body.entries.map((e: { kind: string; amount: string }) => [e.kind, e.amount])).toEqual([
      ["fee", "25000"],
      ["send", "1000000"],
      ["hold", "1025000"],
      ["topup", "10000000"],
    ]);
    const bobLedger = await api("GET", "/v1/payments/ledger", { token: bob.accessToken });
    expect(bobLedger.body.entries.map((e: { kind: string }) => e.kind)).toEqual(["receive"]);
  });

  it("accepts @handle, handle in any case, and user id as `to`", async () => {
    const alice = await funded("10000000", "to");
    const bob = await funded("0", "tob");
    expect((await send(alice, `@${bob.handle}`)).status).toBe(201);
    expect((await send(alice, bob.handle.toUpperCase())).status).toBe(201);
    expect((await send(alice, bob.user.id)).status).toBe(201);
    await settled(alice);
    expect((await totals(bob)).balance).toBe("3000000");
  });

  it("refuses with 402 and charges nothing when the balance is short", async () => {
    const alice = await funded("1024999", "poor");
    const bob = await funded("0", "pb");
    const res = await send(alice, bob);
    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ error: "insufficient_balance", required: "1025000", balance: "1024999" });
    expect(await totals(alice)).toMatchObject({ balance: "1024999", held: "0" });
    expect(await totals(bob)).toMatchObject({ balance: "0", fees: "0" });
    expect((await api("GET", "/v1/inbox", { token: bob.accessToken })).body.messages).toEqual([]);
  });

  it("refuses self-sends, unknown recipients, blocked senders and prices above maxPrice", async () => {
    const alice = await funded("10000000", "ref");
    const bob = await funded("0", "refb");
    expect((await send(alice, alice)).body.error).toBe("self_send");
    const unknown = await send(alice, "nobody_at_all_123");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe("recipient_not_found");

    const above = await send(alice, bob, "hi", { maxPrice: "999999" });
    expect(above.status).toBe(409);
    expect(above.body).toMatchObject({ error: "price_above_max", price: "1000000" });
    expect((await send(alice, bob, "hi", { maxPrice: "1000000" })).status).toBe(201);

    expect((await api("PUT", `/v1/me/blocklist/${alice.handle}`, { token: bob.accessToken })).status).toBe(204);
    const blocked = await send(alice, bob);
    expect(blocked.status).toBe(403);
    expect(blocked.body.error).toBe("sender_blocked");
    expect((await api("DELETE", `/v1/me/blocklist/${alice.user.id}`, { token: bob.accessToken })).status).toBe(204);
    expect((await send(alice, bob)).status).toBe(201);
    await settled(alice);
    expect((await totals(alice)).balance).toBe(`${10_000_000 - 2 * 1_025_000}`);
  });

  it("validates the body: 1–8000 characters, strings only, no unknown fields", async () => {
    const alice = await funded("100000000", "val");
    const bob = await funded("0", "valb");
    expect((await send(alice, bob, "")).status).toBe(400);
    expect((await send(alice, bob, "x".repeat(8001))).status).toBe(400);
    expect((await send(alice, bob, "😀".repeat(8000))).status).toBe(201); // 8000 characters, 16000 UTF-16 units
    const wrong = await api("POST", "/v1/messages", { token: alice.accessToken, body: { to: bob.handle, body: 5 } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe("invalid_request");
    const extra = await api("POST", "/v1/messages", {
      token: alice.accessToken,
      body: { to: bob.handle, body: "x", price: "0" },
    });
    expect(extra.status).toBe(400);
    const malformed = await api("POST", "/v1/messages", { token: alice.accessToken, raw: "{" });
    expect(malformed.body.error).toBe("invalid_json");
    expect((await api("POST", "/v1/messages", { body: { to: bob.handle, body: "x" } })).status).toBe(401);
    expect((await send(alice, bob, "x", { maxPrice: "-5" })).status).toBe(400);
  });

  it("keeps every message private to its recipient", async () => {
    const alice = await funded("10000000", "priv");
    const bob = await funded("0", "privb");
    const eve = await funded("0", "prive");
    const { body } = await send(alice, bob, "for bob only");
    const id = body.messageId;
    expect((await api("GET", `/v1/inbox/${id}`, { token: bob.accessToken })).body.body).toBe("for bob only");
    for (const who of [eve, alice]) {
      const res = await api("GET", `/v1/inbox/${id}`, { token: who.accessToken });
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain("for bob only");
      expect((await api("POST", `/v1/inbox/${id}/read`, { token: who.accessToken })).status).toBe(404);
      expect((await api("POST", `/v1/inbox/${id}/reply`, { token: who.accessToken, body: { body: "x" } })).status).toBe(
        404,
      );
    }
    expect(JSON.stringify((await api("GET", "/v1/inbox", { token: eve.accessToken })).body)).not.toContain(id);
    expect((await api("GET", "/v1/inbox/0x1234", { token: bob.accessToken })).status).toBe(400);
  });

  it("marks messages read and pages the inbox newest first with cursors", async () => {
    const alice = await funded("100000000", "page");
    const bob = await funded("0", "pageb");
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await send(alice, bob, `m${i}`)).body.messageId);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=3&cursor=${cursor}` : "?limit=3";
      const page = await api("GET", `/v1/inbox${q}`, { token: bob.accessToken });
      expect(page.status).toBe(200);
      expect(page.body.messages.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.messages.map((m: { messageId: string }) => m.messageId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect((await api("POST", `/v1/inbox/${ids[0]}/read`, { token: bob.accessToken })).status).toBe(204);
    const one = await api("GET", `/v1/inbox/${ids[0]}`, { token: bob.accessToken });
    expect(one.body.readAt).toEqual(expect.any(String));
    expect((await api("GET", "/v1/inbox?limit=0", { token: bob.accessToken })).status).toBe(400);
    expect((await api("GET", "/v1/inbox?cursor=abc", { token: bob.accessToken })).status).toBe(400);
  });

  it("answers a rate-limited sender with 429 and Retry-After, charging nothing", async () => {
    const alice = await funded("10000000", "rl");
    const bob = await funded("0", "rlb");
    await runInDurableObject(env.ACCOUNT.getByName(alice.user.id), (instance: Account) => {
      // Drain the bucket far below empty (development limits refill ~17 tokens/ms).
      (instance as unknown as { s: { sendBucket: unknown } }).s.sendBucket = { tokens: -100_000, at: Date.now() };
    });
    const res = await send(alice, bob);
    expect(res.status).toBe(429);
    expect(res.body.error).toBe("rate_limited");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await totals(alice)).toMatchObject({ balance: "10000000", held: "0" });

    await runInDurableObject(env.ACCOUNT.getByName(bob.user.id), (instance: Account) => {
      (instance as unknown as { s: { receiveBucket: unknown } }).s.receiveBucket = { tokens: -100_000, at: Date.now() };
    });
    const carol = await funded("10000000", "rlc");
    const toBob = await send(carol, bob);
    expect(toBob.status).toBe(429);
    expect(await totals(carol)).toMatchObject({ balance: "10000000", held: "0" });
  });
});

describe("idempotency", () => {
  it("replays the first answer for the same key and request, charging once", async () => {
    const alice = await funded("10000000", "idem");
    const bob = await funded("0", "idemb");
    const first = await send(alice, bob, "once", {}, "key-1");
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const again = await send(alice, bob, "once", {}, "key-1");
    expect(again.status).toBe(201); // the first answer's status (API.md), not 200
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    await settled(alice);
    expect((await totals(alice)).balance).toBe("8975000");
    expect((await api("GET", "/v1/inbox", { token: bob.accessToken })).body.messages).toHaveLength(1);
  });

  it("answers 409 idempotency_conflict when the same key comes with a different request", async () => {
    const alice = await funded("10000000", "conf");
    const bob = await funded("0", "confb");
    const carol = await funded("0", "confc");
    expect((await send(alice, bob, "one", {}, "k")).status).toBe(201);
    const otherBody = await send(alice, bob, "two", {}, "k");
    expect(otherBody.status).toBe(409);
    expect(otherBody.body.error).toBe("idempotency_conflict");
    const otherRecipient = await send(alice, carol, "one", {}, "k");
    expect(otherRecipient.status).toBe(409);
    expect(otherRecipient.body.error).toBe("idempotency_conflict");
    await settled(alice);
    expect((await totals(alice)).balance).toBe("8975000");
    expect((await totals(carol)).balance).toBe("0");
  });

  it("charges once when the same key is sent many times at once", async () => {
    const alice = await funded("10000000", "race");
    const bob = await funded("0", "raceb");
    const results = await Promise.all(Array.from({ length: 8 }, () => send(alice, bob, "same", {}, "race-key")));
    const ok = results.filter((r) => r.status === 201);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    // One new message; the others are replays of it (201 too, marked) or still in progress (409).
    expect(ok.filter((r) => !r.headers.get("idempotent-replayed"))).toHaveLength(1);
    for (const r of results) expect([201, 409]).toContain(r.status);
    await settled(alice);
    expect((await totals(alice)).balance).toBe("8975000");
    expect((await totals(bob)).balance).toBe("1000000");
  });

  it("makes a key one sender's: another sender's same key is another message", async () => {
    const alice = await funded("10000000", "own");
    const carol = await funded("10000000", "ownc");
    const bob = await funded("0", "ownb");
    const a = await send(alice, bob, "x", {}, "shared");
    const c = await send(carol, bob, "x", {}, "shared");
    expect(a.status).toBe(201);
    expect(c.status).toBe(201);
    expect(a.body.messageId).not.toBe(c.body.messageId);
  });

  it("replays top-ups and withdrawals by key", async () => {
    const alice = await funded("0", "tk");
    const t1 = await api("POST", "/v1/payments/topup", {
      token: alice.accessToken,
      body: { amount: "500" },
      headers: { "idempotency-key": "t1" },
    });
    const t2 = await api("POST", "/v1/payments/topup", {
      token: alice.accessToken,
      body: { amount: "500" },
      headers: { "idempotency-key": "t1" },
    });
    expect(t2.body).toEqual(t1.body);
    expect(t2.headers.get("idempotent-replayed")).toBe("true");
    const t3 = await api("POST", "/v1/payments/topup", {
      token: alice.accessToken,
      body: { amount: "600" },
      headers: { "idempotency-key": "t1" },
    });
    expect(t3.status).toBe(409);
    const w = { token: alice.accessToken, body: { amount: "200" }, headers: { "idempotency-key": "w1" } };
    const w1 = await api("POST", "/v1/payments/withdraw", w);
    const w2 = await api("POST", "/v1/payments/withdraw", w);
    expect(w1.status).toBe(200);
    expect(w2.body).toEqual(w1.body);
    expect((await totals(alice)).balance).toBe("300");
  });
});

describe("concurrency", () => {
  it("lets exactly K of 4×K concurrent sends through a balance for K, ending at 0", async () => {
    const K = 10;
    const alice = await funded(String(K * 1_025_000), "conc");
    const recipients = await Promise.all([funded("0", "c1"), funded("0", "c2"), funded("0", "c3")]);
    const results = await Promise.all(
      Array.from({ length: 4 * K }, (_, i) => send(alice, recipients[i % recipients.length], `m${i}`)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(K);
    expect(statuses.filter((s) => s === 402)).toHaveLength(3 * K);
    await settled(alice);
    expect(await totals(alice)).toMatchObject({ balance: "0", held: "0" });
    const received = await Promise.all(recipients.map(totals));
    expect(received.reduce((sum, t) => sum + BigInt(t.balance) + BigInt(t.fees), 0n)).toBe(BigInt(K * 1_025_000));
  });
});

describe("payments", () => {
  it("caps the faucet, refuses over-withdrawal with 402, and pages the ledger", async () => {
    const alice = await funded("0", "pay");
    const over = await api("POST", "/v1/payments/topup", { token: alice.accessToken, body: { amount: "1000000001" } });
    expect(over.status).toBe(400);
    for (const amount of ["0", "-1", "1.0", "01", "abc", 5]) {
      const r = await api("POST", "/v1/payments/topup", { token: alice.accessToken, body: { amount } });
      expect(r.status, String(amount)).toBe(400);
    }
    for (let i = 0; i < 5; i++) {
      expect(
        (await api("POST", "/v1/payments/topup", { token: alice.accessToken, body: { amount: "100" } })).status,
      ).toBe(200);
    }
    const tooMuch = await api("POST", "/v1/payments/withdraw", { token: alice.accessToken, body: { amount: "501" } });
    expect(tooMuch.status).toBe(402);
    expect(tooMuch.body.error).toBe("insufficient_balance");
    expect(tooMuch.body.message).toBe("Your balance does not cover this withdrawal.");
    const wd = await api("POST", "/v1/payments/withdraw", {
      token: alice.accessToken,
      body: { amount: "150", to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" },
    });
    expect(wd.body).toMatchObject({ balance: "350", status: "simulated", withdrawalId: expect.any(String) });
    const p1 = await api("GET", "/v1/payments/ledger?limit=4", { token: alice.accessToken });
    expect(p1.body.entries).toHaveLength(4);
    expect(p1.body.entries[0]).toMatchObject({ kind: "withdraw", amount: "150", balanceAfter: "350" });
    const p2 = await api("GET", `/v1/payments/ledger?limit=4&cursor=${p1.body.nextCursor}`, {
      token: alice.accessToken,
    });
    expect(p2.body.entries).toHaveLength(2);
    expect(p2.body.nextCursor).toBeNull();
  });

  it("keeps amounts exact beyond 2^53", async () => {
    const alice = await funded("0", "big");
    for (let i = 0; i < 10; i++) {
      await api("POST", "/v1/payments/topup", { token: alice.accessToken, body: { amount: "999999999" } });
    }
    await setPricing(alice, { defaultPrice: "9007199254740993" });
    const res = await api("GET", `/v1/recipients/${alice.handle}`);
    expect(res.body.pricing.defaultPrice).toBe("9007199254740993");
    expect((await totals(alice)).balance).toBe("9999999990");
  });
});
