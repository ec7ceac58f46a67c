// Browser sessions: refresh token in an HttpOnly SameSite=Strict cookie scoped to
// the refresh and logout paths, never in the JSON body; CSRF-safe refresh.
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { api, ORIGIN } from "./helpers";

const COOKIE_MODE = { "x-session": "cookie", origin: ORIGIN };

async function cookieSignIn() {
  const account = privateKeyToAccount(generatePrivateKey());
  const challenge = await api("POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
  const signature = await account.signMessage({ message: challenge.body.message });
  return api("POST", "/v1/auth/siwe/verify", {
    body: { message: challenge.body.message, signature },
    headers: COOKIE_MODE,
  });
}

/** The cookie value the browser would send back to `path`. */
function cookieFor(res: { headers: Headers }, path: string): string {
  const line = res.headers.getSetCookie().find((c) => c.includes(`Path=${path}`));
  if (!line) throw new Error(`no cookie for ${path}`);
  return line.split(";")[0];
}

describe("cookie sessions for the web UI", () => {
  it("sets HttpOnly SameSite=Strict cookies on the refresh and logout paths and keeps the token out of the body", async () => {
    const res = await cookieSignIn();
    expect(res.status).toBe(200);
    expect(res.body.accessToken).toBeTruthy();
    expect(res.body.refreshToken).toBeUndefined();
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    for (const path of ["/v1/auth/refresh", "/v1/auth/logout"]) {
      const c = cookies.find((l) => l.includes(`Path=${path}`))!;
      expect(c).toMatch(/^pi_refresh=[^;]+;/);
      expect(c).toContain("HttpOnly");
      expect(c).toContain("SameSite=Strict");
      // The test origin is 127.0.0.1 over http: no Secure flag (it would never be sent back).
      expect(c).not.toContain("Secure");
    }
  });

  it("API clients still get the refresh token in JSON and no cookie", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const challenge = await api("POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
    const signature = await account.signMessage({ message: challenge.body.message });
    const res = await api("POST", "/v1/auth/siwe/verify", { body: { message: challenge.body.message, signature } });
    expect(res.body.refreshToken).toBeTruthy();
    expect(res.headers.getSetCookie()).toHaveLength(0);
  });

  it("refreshes from the cookie, rotating it, and refuses a replay of the old cookie", async () => {
    const signIn = await cookieSignIn();
    const cookie = cookieFor(signIn, "/v1/auth/refresh");
    const refreshed = await api("POST", "/v1/auth/refresh", { body: {}, headers: { ...COOKIE_MODE, cookie } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).toBeUndefined();
    expect(refreshed.body.user.id).toBe(signIn.body.user.id);
    const next = cookieFor(refreshed, "/v1/auth/refresh");
    expect(next).not.toBe(cookie);
    const replay = await api("POST", "/v1/auth/refresh", { body: {}, headers: { ...COOKIE_MODE, cookie } });
    expect(replay.status).toBe(401);
    // The replay revoked the family: the newer cookie is dead too, and the answer clears it.
    const after = await api("POST", "/v1/auth/refresh", { body: {}, headers: { ...COOKIE_MODE, cookie: next } });
    expect(after.status).toBe(401);
    expect(after.headers.getSetCookie().join("\n")).toContain("Max-Age=0");
  });

  it("refuses a cookie refresh from another origin or without the custom header", async () => {
    const signIn = await cookieSignIn();
    const cookie = cookieFor(signIn, "/v1/auth/refresh");
    const crossSite = await api("POST", "/v1/auth/refresh", {
      body: {},
      headers: { "x-session": "cookie", origin: "https://evil.example", cookie },
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error).toBe("csrf_refused");
    // A plain form-like POST (no custom header) never reads the cookie.
    const noHeader = await api("POST", "/v1/auth/refresh", { body: {}, headers: { origin: ORIGIN, cookie } });
    expect(noHeader.status).toBe(401);
    // The cookie was not consumed by either attempt.
    const ok = await api("POST", "/v1/auth/refresh", { body: {}, headers: { ...COOKIE_MODE, cookie } });
    expect(ok.status).toBe(200);
  });

  it("logout revokes the cookie's family and clears the cookie", async () => {
    const signIn = await cookieSignIn();
    const out = await api("POST", "/v1/auth/logout", {
      body: {},
      token: signIn.body.accessToken,
      headers: { ...COOKIE_MODE, cookie: cookieFor(signIn, "/v1/auth/logout") },
    });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().filter((c) => c.includes("Max-Age=0"))).toHaveLength(2);
    const refreshed = await api("POST", "/v1/auth/refresh", {
      body: {},
      headers: { ...COOKIE_MODE, cookie: cookieFor(signIn, "/v1/auth/refresh") },
    });
    expect(refreshed.status).toBe(401);
  });
});
