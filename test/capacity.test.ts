// Capacity: a sender with no money must not be able to silence a recipient.
// (Hostile review: with production limits, 32 sends from a zero-balance wallet
// gave 402 ×30, 429 ×2, after which funded senders got 429.) Failed attempts give
// the recipient's capacity back and count against the sender that made them.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { funded, send, type User } from "./send-helpers";

/** Production-like limits on these Accounts (the test config runs development limits). */
async function limit(u: User, perMinute: number, burst: number) {
  await runInDurableObject(env.ACCOUNT.getByName(u.user.id), (instance: Account) => {
    instance.rateLimitOverride = { send: { perMinute, burst }, receive: { perMinute, burst } };
  });
}

describe("receive capacity", () => {
  it("is not used up by sends that are not paid", async () => {
    const bob = await funded("0", "cb");
    const broke = await funded("0", "cz");
    const payer = await funded("100000000", "cp");
    for (const u of [bob, broke, payer]) await limit(u, 1, 5);

    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await send(broke, bob, `spam ${i}`)).status);
    // The broke sender's own bucket stops it: its failed attempts count against it.
    expect(statuses).toEqual([402, 402, 402, 402, 402, 429, 429, 429]);

    // Bob's capacity is whole: a paying sender gets all five through.
    for (let i = 0; i < 5; i++) expect((await send(payer, bob, `paid ${i}`)).status).toBe(201);
    // And only paid sends used it.
    expect((await send(payer, bob, "one too many")).status).toBe(429);
  });

  it("is given back when many broke senders try at once", async () => {
    const bob = await funded("0", "pb");
    await limit(bob, 1, 3);
    const brokes = await Promise.all(Array.from({ length: 6 }, (_, i) => funded("0", `pz${i}`)));
    const results = await Promise.all(brokes.map((u) => send(u, bob, "hi")));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(402));
    const payer = await funded("100000000", "pp");
    for (let i = 0; i < 3; i++) expect((await send(payer, bob, `paid ${i}`)).status).toBe(201);
  });
});
