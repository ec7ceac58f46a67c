// The inbox's unread count (for the whole inbox, not a page) and each
// pay-on-reply message's own reply-by time.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { api } from "./helpers";
import { funded, send, setPricing } from "./send-helpers";

describe("inbox unread count", () => {
  it("counts every unread message, beyond the page, and drops as messages are read", async () => {
    const alice = await funded("100000000", "ua");
    const bob = await funded("0", "ub");
    for (let i = 0; i < 5; i++) expect((await send(alice, bob, `note ${i}`)).status).toBe(201);

    const first = await api("GET", "/v1/inbox?limit=2", { token: bob.accessToken });
    expect(first.status).toBe(200);
    expect(first.body.messages).toHaveLength(2);
    expect(first.body.unread).toBe(5);

    // Read one on the first page and one only reachable on a later page.
    const second = await api("GET", `/v1/inbox?limit=2&cursor=${first.body.nextCursor}`, { token: bob.accessToken });
    for (const m of [first.body.messages[0], second.body.messages[1]]) {
      expect((await api("POST", `/v1/inbox/${m.messageId}/read`, { token: bob.accessToken })).status).toBe(204);
    }
    // Reading again changes nothing.
    await api("POST", `/v1/inbox/${first.body.messages[0].messageId}/read`, { token: bob.accessToken });
    const after = await api("GET", "/v1/inbox?limit=1", { token: bob.accessToken });
    expect(after.body.unread).toBe(3);
    // The sender's own inbox is empty.
    expect((await api("GET", "/v1/inbox", { token: alice.accessToken })).body).toMatchObject({ unread: 0 });
  });

  it("is answered from the partial index, not a scan of the inbox", async () => {
    const u = await funded("0", "uc");
    const plan = await runInDurableObject(env.ACCOUNT.getByName(u.user.id), (_: Account, state) =>
      state.storage.sql
        .exec<{ detail: string }>("EXPLAIN QUERY PLAN SELECT COUNT(*) AS n FROM inbox WHERE read_at IS NULL")
        .toArray()
        .map((r) => r.detail)
        .join("\n"),
    );
    expect(plan).toMatch(/inbox_unread/);
    expect(plan).not.toMatch(/SCAN inbox\b(?! USING)/);
  });
});

describe("reply-by time", () => {
  it("is each message's own window, unchanged when the recipient later changes theirs", async () => {
    const alice = await funded("100000000", "ra");
    const bob = await funded("0", "rb");
    await setPricing(bob, { settlement: "on_reply", replyWindowHours: 48 });
    const before = Date.now();
    const escrowed = await send(alice, bob, "pay on reply");
    expect(escrowed.body.status).toBe("escrowed");
    // Bob shortens his window; the message already sent keeps its 48 hours.
    await setPricing(bob, { settlement: "on_reply", replyWindowHours: 1 });
    await setPricing(bob, { settlement: "instant" });
    const instant = await send(alice, bob, "paid now");
    expect(instant.body.status).toBe("delivered");

    const inbox = await api("GET", "/v1/inbox", { token: bob.accessToken });
    const byBody = (b: string) => inbox.body.messages.find((m: { body: string }) => m.body === b);
    const replyBy = Date.parse(byBody("pay on reply").replyBy);
    expect(replyBy).toBeGreaterThanOrEqual(before + 48 * 3_600_000);
    expect(replyBy).toBeLessThanOrEqual(Date.now() + 48 * 3_600_000);
    expect(byBody("paid now").replyBy).toBeNull();
    const one = await api("GET", `/v1/inbox/${escrowed.body.messageId}`, { token: bob.accessToken });
    expect(one.body.replyBy).toBe(byBody("pay on reply").replyBy);
  });
});
