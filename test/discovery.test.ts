import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ApiError } from "../worker/http/errors";
import { createRouter } from "../worker/http/router";
import { findDiscoverableUserIdByPhone } from "../worker/identity/phone-lookup";
import { limitAnonymousLookups } from "../worker/identity/rate-limit";
import { api, signUp } from "./helpers";
import { uniqueIp, uniquePhone, verifyTarget } from "./identity-helpers";

const notFound = { error: "recipient_not_found", message: "No such recipient." };

describe("discovery by phone", () => {
  it("finds a user only when the phone is verified and discoverableByPhone is on; otherwise the same 404", async () => {
    const s = await signUp("phoneowner");
    const phone = uniquePhone();
    const unknown = await api("GET", `/v1/recipients/${uniquePhone()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(notFound);

    // Discoverable but not verified: nothing to find.
    await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { discoverableByPhone: true } });
    const unverified = await api("GET", `/v1/recipients/${phone}`);
    expect(unverified.status).toBe(404);
    expect(unverified.body).toEqual(notFound);

    // Verified and discoverable: found.
    await verifyTarget(s.accessToken, "phone", phone);
    const found = await api("GET", `/v1/recipients/${phone}`);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: s.user.id, handle: s.handle, verified: { phone: true } });
    expect(JSON.stringify(found.body)).not.toContain(phone.slice(1));
    expect(await findDiscoverableUserIdByPhone(env, phone)).toBe(s.user.id);

    // Verified, discovery turned off: indistinguishable from an unknown number.
    await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { discoverableByPhone: false } });
    const hidden = await api("GET", `/v1/recipients/${phone}`);
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual(unknown.body);
    expect([...hidden.headers.keys()].sort()).toEqual([...unknown.headers.keys()].sort());
    expect(await findDiscoverableUserIdByPhone(env, phone)).toBeNull();
  });

  it("finds nothing for malformed numbers", async () => {
    expect(await findDiscoverableUserIdByPhone(env, "+1")).toBeNull();
    expect(await findDiscoverableUserIdByPhone(env, "not a phone")).toBeNull();
    expect((await api("GET", "/v1/recipients/+0000")).status).toBe(404);
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

describe("limitAnonymousLookups", () => {
  // The middleware the recipients route mounts; exercised on a tiny router with a low limit.
  const probe = createRouter()
    .use("/r/*", limitAnonymousLookups)
    .get("/r/:selector", (c) => c.json({ ok: true }));
  probe.onError((err, c) => {
    if (!(err instanceof ApiError)) throw err;
    for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
    return c.json(err.body(), err.status);
  });
  const vars = { ...env, LOOKUP_IP_PER_MINUTE: "3" } as Env;

  async function lookup(ip: string, headers: Record<string, string> = {}) {
    const res = await probe.fetch(
      new Request("http://127.0.0.1:8787/r/+15550000000", { headers: { "cf-connecting-ip": ip, ...headers } }),
      vars,
      createExecutionContext(),
    );
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  it("rate-limits anonymous lookups per IP with 429 rate_limited and Retry-After", async () => {
    const ip = uniqueIp();
    for (let i = 0; i < 3; i++) expect((await lookup(ip)).status).toBe(200);
    const limited = await lookup(ip);
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe("rate_limited");
    const retry = Number(limited.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    // Other addresses and signed-in callers are not affected.
    expect((await lookup(uniqueIp())).status).toBe(200);
    expect((await lookup(ip, { authorization: "Bearer something" })).status).toBe(200);
  });

  it("holds exactly under concurrency", async () => {
    const ip = uniqueIp();
    const results = await Promise.all(Array.from({ length: 10 }, () => lookup(ip)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(7);
  });
});
