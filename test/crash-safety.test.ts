// The hold / resolve / tombstone protocol (DESIGN.md §3), broken at each step.
// Faults are armed on the live Durable Object instance; holds are aged by
// rewriting their timestamps; alarms are fired by hand.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { HOLD_RESOLVE_AFTER_MS } from "../durable-objects/account/holds";
import type { Fault } from "../durable-objects/account/types";
import { api } from "./helpers";
import { funded, send, settled, totals, type User } from "./send-helpers";

const stub = (u: User) => env.ACCOUNT.getByName(u.user.id);

async function arm(u: User, ...faults: Fault[]) {
  await runInDurableObject(stub(u), (instance: Account) => {
    instance.faults.clear();
    for (const f of faults) instance.faults.add(f);
  });
}

/** Ages the sender's open holds past the resolve threshold and fires its alarm. */
async function ageHoldsAndRunAlarm(sender: User) {
  await runInDurableObject(stub(sender), (_instance: Account, state) => {
    state.storage.sql.exec(
      "UPDATE outbox SET created_at = created_at - ? WHERE hold_state = 'held'",
      HOLD_RESOLVE_AFTER_MS + 1_000,
    );
  });
  return runDurableObjectAlarm(stub(sender));
}

const sum = (...xs: string[]) => xs.reduce((a, x) => a + BigInt(x), 0n);

async function conserved(users: User[], funded: bigint) {
  const t = await Promise.all(users.map(totals));
  expect(sum(...t.map((x) => x.balance), ...t.map((x) => x.held), ...t.map((x) => x.fees))).toBe(funded);
}

describe("crash safety of the two-Account send", () => {
  it("sender fails before holding: nothing moves, nothing to resolve", async () => {
    const alice = await funded("5000000", "c1a");
    const bob = await funded("0", "c1b");
    await arm(alice, "debit:throw_before_hold");
    const res = await send(alice, bob);
    expect(res.status).toBe(500);
    expect(res.body.error).toBe("internal_error");
    expect(await totals(alice)).toMatchObject({ balance: "5000000", held: "0" });
    expect(await totals(bob)).toMatchObject({ balance: "0", fees: "0" });
    await arm(alice);
    expect((await send(alice, bob)).status).toBe(201);
  });

  it("sender holds, then its answer is lost: the alarm asks, the recipient tombstones, the sender is refunded", async () => {
    const alice = await funded("5000000", "c2a");
    const bob = await funded("0", "c2b");
    await arm(alice, "debit:throw_after_hold");
    const res = await send(alice, bob, "lost", {}, "key-lost");
    expect(res.status).toBe(500);
    expect(await totals(alice)).toMatchObject({ balance: `${5_000_000 - 1_025_000}`, held: "1025000" });
    expect((await api("GET", "/v1/inbox", { token: bob.accessToken })).body.messages).toEqual([]);
    await arm(alice);

    // Not yet stale: the alarm leaves the hold alone.
    await runDurableObjectAlarm(stub(alice));
    expect((await totals(alice)).held).toBe("1025000");

    await ageHoldsAndRunAlarm(alice);
    expect(await totals(alice)).toMatchObject({ balance: "5000000", held: "0" });
    const outbox = await api("GET", "/v1/outbox", { token: alice.accessToken });
    expect(outbox.body.messages[0].status).toBe("aborted");
    const ledger = await api("GET", "/v1/payments/ledger", { token: alice.accessToken });
    expect(ledger.body.entries[0]).toMatchObject({ kind: "refund", amount: "1025000" });

    // The tombstone keeps a late retry of the same message from being delivered.
    const retry = await send(alice, bob, "lost", {}, "key-lost");
    expect(retry.status).toBe(409);
    expect(retry.body.error).toBe("message_aborted");
    expect(await totals(bob)).toMatchObject({ balance: "0" });
    await conserved([alice, bob], 5_000_000n);
  });

  it("recipient crashes after the debit, before committing: the sender is refunded", async () => {
    const alice = await funded("5000000", "c3a");
    const bob = await funded("0", "c3b");
    await arm(bob, "receive:crash_after_debit");
    const res = await send(alice, bob, "crash");
    expect(res.status).toBe(500);
    await arm(bob);
    expect(await totals(alice)).toMatchObject({ held: "1025000" });
    expect(await totals(bob)).toMatchObject({ balance: "0", fees: "0" });
    await ageHoldsAndRunAlarm(alice);
    expect(await totals(alice)).toMatchObject({ balance: "5000000", held: "0" });
    await conserved([alice, bob], 5_000_000n);
  });

  it("recipient's own commit fails after the debit: rolled back, not left in flight, sender refunded", async () => {
    const alice = await funded("5000000", "c7a");
    const bob = await funded("0", "c7b");
    await arm(bob, "receive:commit_throws");
    expect((await send(alice, bob, "rollback")).status).toBe(500);
    await arm(bob);
    expect((await api("GET", "/v1/inbox", { token: bob.accessToken })).body.messages).toEqual([]);
    expect(await totals(bob)).toMatchObject({ balance: "0", fees: "0" });
    await ageHoldsAndRunAlarm(alice);
    expect(await totals(alice)).toMatchObject({ balance: "5000000", held: "0" });
    await conserved([alice, bob], 5_000_000n);
  });

  it("recipient commits but the settle is lost: the alarm learns it was delivered and settles", async () => {
    const alice = await funded("5000000", "c4a");
    const bob = await funded("0", "c4b");
    await arm(alice, "settle:throw");
    const res = await send(alice, bob, "delivered");
    expect(res.status).toBe(201); // the recipient has it; settling is off the response path
    await new Promise((r) => setTimeout(r, 50));
    expect(await totals(alice)).toMatchObject({ balance: `${5_000_000 - 1_025_000}`, held: "1025000" });
    expect(await totals(bob)).toMatchObject({ balance: "1000000", fees: "25000" });
    await arm(alice);
    await ageHoldsAndRunAlarm(alice);
    expect(await totals(alice)).toMatchObject({ balance: `${5_000_000 - 1_025_000}`, held: "0" });
    const outbox = await api("GET", "/v1/outbox", { token: alice.accessToken });
    expect(outbox.body.messages[0].status).toBe("delivered");
    await conserved([alice, bob], 5_000_000n);
  });

  it("resolve answers pending while the recipient is still waiting on the debit", async () => {
    const bob = await funded("0", "c5b");
    const messageId = `0x${"ab".repeat(32)}`;
    await runInDurableObject(stub(bob), async (instance: Account) => {
      (instance as unknown as { inFlight: Set<string> }).inFlight.add(messageId);
      expect(await instance.resolve(messageId)).toEqual({ state: "pending" });
      (instance as unknown as { inFlight: Set<string> }).inFlight.delete(messageId);
      expect(await instance.resolve(messageId)).toEqual({ state: "aborted" });
    });
  });

  it("a hold the alarm cannot resolve (recipient unreachable) stays held and is retried", async () => {
    const alice = await funded("5000000", "c6a");
    const bob = await funded("0", "c6b");
    await arm(alice, "debit:throw_after_hold");
    await send(alice, bob);
    await arm(alice);
    // Make the recipient answer "pending" (as if its receive were still running).
    const hold = await runInDurableObject(stub(alice), (_i: Account, state) =>
      state.storage.sql.exec<{ message_id: string }>("SELECT message_id FROM outbox").one(),
    );
    await runInDurableObject(stub(bob), (instance: Account) => {
      (instance as unknown as { inFlight: Set<string> }).inFlight.add(hold.message_id);
    });
    await ageHoldsAndRunAlarm(alice);
    expect((await totals(alice)).held).toBe("1025000");
    await runInDurableObject(stub(bob), (instance: Account) => {
      (instance as unknown as { inFlight: Set<string> }).inFlight.clear();
    });
    await ageHoldsAndRunAlarm(alice);
    expect(await totals(alice)).toMatchObject({ balance: "5000000", held: "0" });
    await settled(alice);
  });
});
