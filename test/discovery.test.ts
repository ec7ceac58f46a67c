import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { findDiscoverableUserIdByPhone } from "../worker/identity/phone-lookup";
import { api, signIn, signUp } from "./helpers";
import { apiWith, uniqueIp, uniquePhone, verifyTarget } from "./identity-helpers";

const notFound = { error: "recipient_not_found", message: "No such recipient." };

describe("discovery by phone", () => {
  it("finds a user only when the phone is verified and discoverableByPhone is on; otherwise the same 404", async () => {
    const s = await signUp("phoneowner");
    const phone = uniquePhone();
    const unknown = await api("POST", "/v1/recipients/lookup", { body: { phone: uniquePhone() } });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(notFound);

    // Discoverable but not verified: nothing to find.
    await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { discoverableByPhone: true } });
    const unverified = await api("POST", "/v1/recipients/lookup", { body: { phone: phone } });
    expect(unverified.status).toBe(404);
    expect(unverified.body).toEqual(notFound);

    // Verified and discoverable: found.
    await verifyTarget(s.accessToken, "phone", phone);
    const found = await api("POST", "/v1/recipients/lookup", { body: { phone: phone } });
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: s.user.id, handle: s.handle, verified: { phone: true } });
    expect(JSON.stringify(found.body)).not.toContain(phone.slice(1));
    expect(await findDiscoverableUserIdByPhone(env, phone)).toBe(s.user.id);

    // Verified, discovery turned off: indistinguishable from an unknown number.
    await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { discoverableByPhone: false } });
    const hidden = await api("POST", "/v1/recipients/lookup", { body: { phone: phone } });
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual(unknown.body);
    expect([...hidden.headers.keys()].sort()).toEqual([...unknown.headers.keys()].sort());
    expect(await findDiscoverableUserIdByPhone(env, phone)).toBeNull();
  });

  it("finds nothing for malformed numbers", async () => {
    expect(await findDiscoverableUserIdByPhone(env, "+1")).toBeNull();
    expect(await findDiscoverableUserIdByPhone(env, "not a phone")).toBeNull();
    expect((await api("POST", "/v1/recipients/lookup", { body: { phone: "+0000" } })).status).toBe(404);
  });

  it("keeps finding users through the previous key during a PII key rotation", async () => {
    const s = await signUp("rotation");
    const phone = uniquePhone();
    await verifyTarget(s.accessToken, "phone", phone);
    await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { discoverableByPhone: true } });
    const rotated = {
      ...env,
      PII_KEY: btoa("rotated-pii-key-0123456789abcdef"),
      PII_KEY_PREVIOUS: env.PII_KEY,
      PII_KEY_VERSION: "2",
    } as Env;
    expect(await findDiscoverableUserIdByPhone(rotated, phone)).toBe(s.user.id);
    // With the old key gone the index no longer matches: rows must be re-sealed before dropping it.
    expect(await findDiscoverableUserIdByPhone({ ...rotated, PII_KEY_PREVIOUS: undefined } as Env, phone)).toBeNull();
  });
});

describe("lookup limits", () => {
  // Through the real routes, with low limits.
  const low = { LOOKUP_IP_PER_MINUTE: "3", LOOKUP_USER_PER_MINUTE: "1000", PHONE_LOOKUP_USER_DAILY_CAP: "1000" };
  const byPhone = (vars: Record<string, string>, ip: string, token?: string) =>
    apiWith(vars, "POST", "/v1/recipients/lookup", {
      body: { phone: uniquePhone() },
      token,
      headers: { "cf-connecting-ip": ip },
    });

  it("rate-limits lookups per IP with 429 rate_limited and Retry-After, signed in or not", async () => {
    const ip = uniqueIp();
    for (let i = 0; i < 3; i++) expect((await byPhone(low, ip)).status).toBe(404);
    const limited = await byPhone(low, ip);
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe("rate_limited");
    const retry = Number(limited.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    // Other addresses are not affected; a token does not get around it (it did before: issue #11).
    expect((await byPhone(low, uniqueIp())).status).toBe(404);
    const s = await signIn();
    expect((await byPhone(low, ip, s.accessToken)).status).toBe(429);
  });

  it("rate-limits signed-in lookups per user across addresses", async () => {
    const s = await signIn();
    const vars = { ...low, LOOKUP_IP_PER_MINUTE: "1000", LOOKUP_USER_PER_MINUTE: "4" };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await byPhone(vars, uniqueIp(), s.accessToken)).status);
    expect(statuses).toEqual([404, 404, 404, 404, 429, 429]);
    // Handle lookups count too.
    const byHandle = await apiWith(vars, "GET", "/v1/recipients/@nobody_here", {
      token: s.accessToken,
      headers: { "cf-connecting-ip": uniqueIp() },
    });
    expect(byHandle.status).toBe(429);
  });

  it("caps a user's phone lookups per day", async () => {
    const s = await signIn();
    const vars = { ...low, LOOKUP_IP_PER_MINUTE: "1000", PHONE_LOOKUP_USER_DAILY_CAP: "2" };
    expect((await byPhone(vars, uniqueIp(), s.accessToken)).status).toBe(404);
    expect((await byPhone(vars, uniqueIp(), s.accessToken)).status).toBe(404);
    const capped = await byPhone(vars, uniqueIp(), s.accessToken);
    expect(capped.status).toBe(429);
    expect(Number(capped.headers.get("retry-after"))).toBeGreaterThan(3600);
    // Handle lookups are not phone lookups.
    const byHandle = await apiWith(vars, "GET", "/v1/recipients/@nobody_here", { token: s.accessToken });
    expect(byHandle.status).toBe(404);
  });

  it("holds exactly under concurrency", async () => {
    const ip = uniqueIp();
    const results = await Promise.all(Array.from({ length: 10 }, () => byPhone(low, ip)));
    expect(results.filter((r) => r.status === 404)).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(7);
  });

  it("allowlists and blocks by phone through a body, never a path", async () => {
    const owner = await signUp("blocker");
    const other = await signUp("blockee");
    const phone = uniquePhone();
    await verifyTarget(other.accessToken, "phone", phone);
    await api("PUT", "/v1/me/profile", { token: other.accessToken, body: { discoverableByPhone: true } });
    const path = await api("PUT", `/v1/me/blocklist/${encodeURIComponent(phone)}`, { token: owner.accessToken });
    expect(path.status).toBe(400);
    expect(path.body.error).toBe("phone_in_url");

    const allow = await api("POST", "/v1/me/allowlist", {
      token: owner.accessToken,
      body: { phone, discountBps: 5000 },
    });
    expect(allow.status).toBe(200);
    expect(allow.body.entry).toEqual({ sender: other.user.id, handle: other.handle, discountBps: 5000 });
    const block = await api("POST", "/v1/me/blocklist", { token: owner.accessToken, body: { phone } });
    expect(block.status).toBe(200);
    expect(block.body.entry).toEqual({ sender: other.user.id, handle: other.handle });
    await api("POST", "/v1/payments/topup", { token: other.accessToken, body: { amount: "5000000" } });
    const sent = await api("POST", "/v1/messages", {
      token: other.accessToken,
      body: { to: owner.handle, body: "hi" },
    });
    expect(sent.status).toBe(403);
    // Undone by id, as the entry named it.
    expect((await api("DELETE", `/v1/me/blocklist/${other.user.id}`, { token: owner.accessToken })).status).toBe(204);
    const unknown = await api("POST", "/v1/me/blocklist", { token: owner.accessToken, body: { phone: uniquePhone() } });
    expect(unknown.status).toBe(404);
  });

  it("keeps phone numbers out of URLs", async () => {
    const res = await api("GET", `/v1/recipients/${encodeURIComponent(uniquePhone())}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("phone_in_url");
    const paths = Object.keys((await api("GET", "/openapi.json")).body.paths);
    expect(paths).toContain("/v1/recipients/lookup");
  });
});
