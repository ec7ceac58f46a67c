import { describe, expect, it } from "vitest";
import { discounted, fee } from "../worker/domain/money";
import { DEFAULT_POLICY, priceFor, quote } from "../worker/domain/pricing";
import { take } from "../worker/domain/rate-limit";
import { api } from "./helpers";
import { funded, send, setPricing, settled } from "./send-helpers";

describe("price rule (pure)", () => {
  const policy = {
    ...DEFAULT_POLICY,
    defaultPrice: 1_000_000n,
    firstContactPrice: 5_000_000n,
    returnDiscountBps: 2500,
  };
  const rel = { allowlistBps: null, hasSentBefore: true, recipientHasSent: false };

  it("picks allowlist over everything, then first contact, then return discount, then default", () => {
    expect(priceFor(policy, { ...rel, allowlistBps: 1000, hasSentBefore: false })).toEqual({
      price: 900_000n,
      reason: "allowlist",
    });
    expect(priceFor(policy, { ...rel, hasSentBefore: false, recipientHasSent: true })).toEqual({
      price: 5_000_000n,
      reason: "first_contact",
    });
    expect(priceFor(policy, { ...rel, recipientHasSent: true })).toEqual({
      price: 750_000n,
      reason: "return_discount",
    });
    expect(priceFor(policy, rel)).toEqual({ price: 1_000_000n, reason: "default" });
  });

  it("rounds discounts down (the price up) and fees down", () => {
    expect(discounted(999n, 3333)).toBe(999n - 332n); // 332.97 of discount → 332
    expect(discounted(1n, 9999)).toBe(1n);
    expect(discounted(10n, 10_000)).toBe(0n);
    expect(fee(39n, 250n)).toBe(0n); // 0.975 → 0
    expect(fee(40n, 250n)).toBe(1n);
    expect(quote(policy, rel, 250n)).toEqual({ price: 1_000_000n, fee: 25_000n, total: 1_025_000n, reason: "default" });
  });

  it("keeps bigint precision far above 2^53", () => {
    const huge = 2n ** 200n + 12_345n;
    expect(fee(huge, 250n)).toBe((huge * 250n) / 10_000n);
  });
});

describe("token bucket (pure)", () => {
  it("allows the burst, then refuses with a Retry-After, then refills", () => {
    const limit = { perMinute: 60, burst: 2 };
    let r = take(null, limit, 0);
    expect(r.ok).toBe(true);
    r = take(r.ok ? r.bucket : null, limit, 0);
    expect(r.ok).toBe(true);
    const refused = take(r.ok ? r.bucket : null, limit, 0);
    expect(refused).toEqual({ ok: false, retryAfterSeconds: 1 });
    const later = take(r.ok ? r.bucket : null, limit, 1000);
    expect(later.ok).toBe(true);
  });
});

describe("price rule through the API", () => {
  it("quotes first contact, then default, then return discount, and allowlist overrides", async () => {
    const alice = await funded("100000000", "pa");
    const bob = await funded("100000000", "pb");
    await setPricing(bob, { defaultPrice: "2000000", firstContactPrice: "5000000", returnDiscountBps: 5000 });

    const q = async () => (await api("GET", `/v1/recipients/@${bob.handle}`, { token: alice.accessToken })).body;
    expect((await q()).quote).toEqual({ price: "5000000", fee: "125000", total: "5125000", reason: "first_contact" });

    const first = await send(alice, bob);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ price: "5000000", fee: "125000", total: "5125000", status: "delivered" });
    expect((await q()).quote).toMatchObject({ price: "2000000", reason: "default" });
    expect((await send(alice, bob)).body.price).toBe("2000000");

    // Bob writes to Alice once: from then on Alice gets Bob's return discount.
    expect((await send(bob, alice)).status).toBe(201);
    expect((await q()).quote).toEqual({ price: "1000000", fee: "25000", total: "1025000", reason: "return_discount" });
    expect((await send(alice, bob)).body.price).toBe("1000000");

    const allow = await api("PUT", `/v1/me/allowlist/${alice.handle}`, {
      token: bob.accessToken,
      body: { discountBps: 9000 },
    });
    expect(allow.status).toBe(200);
    expect(allow.body.entry).toMatchObject({ sender: alice.user.id, discountBps: 9000 });
    expect((await q()).quote).toMatchObject({ price: "200000", reason: "allowlist" });
    expect((await send(alice, bob)).body.price).toBe("200000");

    expect((await api("DELETE", `/v1/me/allowlist/${alice.handle}`, { token: bob.accessToken })).status).toBe(204);
    expect((await q()).quote.reason).toBe("return_discount");
    await settled(alice, bob);
  });

  it("shows public pricing without a quote when signed out, and 404s unknown recipients", async () => {
    const bob = await funded("0", "pub");
    const res = await api("GET", `/v1/recipients/${bob.handle}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: bob.user.id, handle: bob.handle, pricing: { defaultPrice: "1000000" } });
    expect(res.body.quote).toBeUndefined();
    const missing = await api("GET", "/v1/recipients/@nobody_here_xyz");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe("recipient_not_found");
  });

  it("validates pricing input", async () => {
    const u = await funded("0", "pv");
    const bad = [
      { defaultPrice: "-1", firstContactPrice: "1", returnDiscountBps: 0, settlement: "instant" },
      { defaultPrice: "1.5", firstContactPrice: "1", returnDiscountBps: 0, settlement: "instant" },
      { defaultPrice: 100, firstContactPrice: "1", returnDiscountBps: 0, settlement: "instant" },
      { defaultPrice: "1", firstContactPrice: "1", returnDiscountBps: 10_001, settlement: "instant" },
      { defaultPrice: "1", firstContactPrice: "1", returnDiscountBps: 0, settlement: "later" },
      { defaultPrice: "1e6", firstContactPrice: "1", returnDiscountBps: 0, settlement: "instant" },
    ];
    for (const body of bad) {
      const r = await api("PUT", "/v1/me/pricing", { token: u.accessToken, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toBe("invalid_request");
    }
    const ok = await setPricing(u, { defaultPrice: "0", settlement: "on_reply", replyWindowHours: 24 });
    expect(ok).toMatchObject({ defaultPrice: "0", settlement: "on_reply", replyWindowHours: 24 });
    const me = await api("GET", "/v1/me", { token: u.accessToken });
    expect(me.body.pricing).toEqual(ok);
  });

  it("finds discoverable profiles by search", async () => {
    const u = await funded("0", "findme");
    await api("PUT", "/v1/me/profile", { token: u.accessToken, body: { displayName: "Zebulon Q" } });
    const byHandle = await api("GET", `/v1/search?q=${u.handle}`);
    expect(byHandle.body.results.map((r: { id: string }) => r.id)).toContain(u.user.id);
    const byName = await api("GET", "/v1/search?q=zebulon");
    expect(byName.body.results.map((r: { id: string }) => r.id)).toContain(u.user.id);
    await api("PUT", "/v1/me/profile", { token: u.accessToken, body: { discoverableInSearch: false } });
    const hidden = await api("GET", `/v1/search?q=${u.handle}`);
    expect(hidden.body.results.map((r: { id: string }) => r.id)).not.toContain(u.user.id);
    // LIKE wildcards match themselves only.
    const wild = await api("GET", "/v1/search?q=%25");
    expect(wild.status).toBe(200);
    expect(wild.body.results).toEqual([]);
  });
});
