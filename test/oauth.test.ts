// Social sign-in end to end over real HTTP: the Worker redirects to the fake
// provider (test/fakes/provider-server.mjs on 127.0.0.1), the fake redirects back
// with a code, and the callback exchanges it (PKCE) and fetches the profile.

import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, ORIGIN, signIn } from "./helpers";

let subSeq = 0;
const uniqueSub = (p = "sub") => `${p}-${Date.now().toString(36)}-${subSeq++}`;

/** GET /start; returns the provider authorize URL and the state cookie the Worker set. */
async function start(provider: string) {
  const res = await exports.default.fetch(new Request(`${ORIGIN}/v1/auth/oauth/${provider}/start`), {
    redirect: "manual",
  } as RequestInit);
  expect(res.status).toBe(302);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
  return { authorizeUrl: new URL(res.headers.get("location")!), cookie };
}

/** Plays the user at the provider: follow the authorize URL as `sub`; returns the callback path + query. */
async function authorizeAt(authorizeUrl: URL, sub: string): Promise<string> {
  const url = new URL(authorizeUrl);
  url.searchParams.set("fake_sub", sub);
  const res = await fetch(url, { redirect: "manual" });
  expect(res.status).toBe(302);
  const back = new URL(res.headers.get("location")!);
  expect(back.origin).toBe(ORIGIN);
  return back.pathname + back.search;
}

const json = { accept: "application/json" };

async function signInWith(provider: string, sub: string) {
  const { authorizeUrl } = await start(provider);
  const callback = await authorizeAt(authorizeUrl, sub);
  return api("GET", callback, { headers: json });
}

describe("OAuth sign-in", () => {
  it("redirects to the provider with state, PKCE S256 and the callback redirect_uri", async () => {
    const { authorizeUrl, cookie } = await start("google");
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(env.GOOGLE_AUTH_URL);
    const p = authorizeUrl.searchParams;
    expect(p.get("response_type")).toBe("code");
    expect(p.get("client_id")).toBe(env.GOOGLE_CLIENT_ID);
    expect(p.get("redirect_uri")).toBe(`${ORIGIN}/v1/auth/oauth/google/callback`);
    expect(p.get("code_challenge_method")).toBe("S256");
    expect(p.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get("state")!.length).toBeGreaterThanOrEqual(40);
    expect(cookie).toBe(`pi_oauth_state=${p.get("state")}`);
    const row = await env.DB.prepare("SELECT kind, used_at, expires_at FROM auth_challenges WHERE id = ?")
      .bind(p.get("state"))
      .first<Record<string, any>>();
    expect(row).toMatchObject({ kind: "oauth", used_at: null });
    expect(row!.expires_at - Date.now()).toBeLessThanOrEqual(10 * 60 * 1000);
  });

  for (const provider of ["google", "github"]) {
    it(`signs in with ${provider}: creates the user once, then finds the same user`, async () => {
      const sub = uniqueSub(provider);
      const first = await signInWith(provider, sub);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ created: true, linked: false });
      expect(first.body.user.id).toMatch(/^u_/);
      expect(first.body.user.walletAddress).toBeNull();
      expect((await api("GET", "/v1/me", { token: first.body.accessToken })).body.user.id).toBe(first.body.user.id);

      const again = await signInWith(provider, sub);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ created: false, user: { id: first.body.user.id } });
      const other = await signInWith(provider, uniqueSub(provider));
      expect(other.body.user.id).not.toBe(first.body.user.id);
    });
  }

  it("keeps only the provider's subject id (no email or name from the profile)", async () => {
    const sub = uniqueSub("privacy");
    const res = await signInWith("google", sub);
    const rows = await env.DB.prepare("SELECT * FROM oauth_identities WHERE user_id = ?").bind(res.body.user.id).all();
    expect(rows.results).toHaveLength(1);
    expect(rows.results[0]).toMatchObject({ provider: "google", subject: sub });
    const user = await env.DB.prepare("SELECT * FROM users WHERE id = ?").bind(res.body.user.id).first();
    expect(JSON.stringify(user)).not.toContain("gmail.test");
    expect(JSON.stringify(user)).not.toContain("Fake Google");
  });

  it("rejects a bad state with 401", async () => {
    const { authorizeUrl } = await start("github");
    const callback = await authorizeAt(authorizeUrl, uniqueSub());
    const forged = callback.replace(/state=[^&]+/, "state=forged-state-value");
    const res = await api("GET", forged, { headers: json });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("unauthorized");
    expect((await api("GET", callback.replace(/&?state=[^&]+/, ""), { headers: json })).status).toBe(401);
  });

  it("rejects a state used for another provider", async () => {
    const { authorizeUrl } = await start("github");
    const callback = await authorizeAt(authorizeUrl, uniqueSub());
    const res = await api("GET", callback.replace("/github/", "/google/"), { headers: json });
    expect(res.status).toBe(401);
  });

  it("rejects a replayed callback and a reused code (the provider refuses a second exchange)", async () => {
    for (const provider of ["google", "github"]) {
      const { authorizeUrl } = await start(provider);
      const callback = await authorizeAt(authorizeUrl, uniqueSub());
      expect((await api("GET", callback, { headers: json })).status).toBe(200);
      // Same code and state again: the state is already claimed.
      expect((await api("GET", callback, { headers: json })).status).toBe(401);
      // The same code with a fresh, valid state: the provider refuses the code.
      const fresh = await start(provider);
      const code = new URL(callback, ORIGIN).searchParams.get("code")!;
      const state = fresh.authorizeUrl.searchParams.get("state")!;
      const reused = await api(
        "GET",
        `/v1/auth/oauth/${provider}/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`,
        { headers: json },
      );
      expect(reused.status, provider).toBe(401);
    }
  });

  it("rejects an expired state", async () => {
    const { authorizeUrl } = await start("google");
    await env.DB.prepare("UPDATE auth_challenges SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, authorizeUrl.searchParams.get("state"))
      .run();
    const res = await api("GET", await authorizeAt(authorizeUrl, uniqueSub()), { headers: json });
    expect(res.status).toBe(401);
  });

  it("answers 400 oauth_denied when the user declines at the provider", async () => {
    const res = await api("GET", "/v1/auth/oauth/google/callback?error=access_denied&state=x", { headers: json });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("oauth_denied");
  });
});

describe("OAuth in the browser (redirect + one-time code)", () => {
  it("redirects the web UI with a one-time code that trades once for a session", async () => {
    const { authorizeUrl, cookie } = await start("google");
    const callback = await authorizeAt(authorizeUrl, uniqueSub("web"));
    const res = await exports.default.fetch(
      new Request(`${ORIGIN}${callback}`, { headers: { cookie, accept: "text/html" } }),
      { redirect: "manual" } as RequestInit,
    );
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin).toBe(ORIGIN);
    expect(location.hash).toMatch(/^#\/signed-in\?code=/);
    const code = decodeURIComponent(location.hash.split("code=")[1]);

    const session = await api("POST", "/v1/auth/oauth/exchange", { body: { code }, headers: { cookie } });
    expect(session.status).toBe(200);
    expect(session.body.user.id).toMatch(/^u_/);
    expect(typeof session.body.accessToken).toBe("string");
    expect(session.headers.get("set-cookie")).toMatch(/^pi_oauth_state=;/); // cleared
    const again = await api("POST", "/v1/auth/oauth/exchange", { body: { code }, headers: { cookie } });
    expect(again.status).toBe(401);
  });

  // Hostile review: the code worked from any client, so an attacker could send a
  // victim `/#/signed-in?code=<attacker's code>` and sign them into the attacker's account.
  it("refuses the one-time code from a browser other than the one that started the sign-in", async () => {
    const attacker = await start("google");
    const callback = await authorizeAt(attacker.authorizeUrl, uniqueSub("fixation"));
    const res = await exports.default.fetch(
      new Request(`${ORIGIN}${callback}`, { headers: { cookie: attacker.cookie, accept: "text/html" } }),
      { redirect: "manual" } as RequestInit,
    );
    const code = decodeURIComponent(new URL(res.headers.get("location")!).hash.split("code=")[1]);
    // The victim's browser: no cookie, or the cookie of a sign-in it started itself.
    expect((await api("POST", "/v1/auth/oauth/exchange", { body: { code } })).status).toBe(401);
    const victim = await start("google");
    const other = await api("POST", "/v1/auth/oauth/exchange", { body: { code }, headers: { cookie: victim.cookie } });
    expect(other.status).toBe(401);
    // The refusals did not burn it: the browser that started the flow still can.
    const own = await api("POST", "/v1/auth/oauth/exchange", { body: { code }, headers: { cookie: attacker.cookie } });
    expect(own.status).toBe(200);
  });

  it("refuses a browser callback without the state cookie of the browser that started it", async () => {
    const { authorizeUrl } = await start("google");
    const callback = await authorizeAt(authorizeUrl, uniqueSub("csrf"));
    const res = await api("GET", callback, { headers: { accept: "text/html" } });
    expect(res.status).toBe(401);
    const other = await start("google");
    const mismatched = await api("GET", callback, { headers: { accept: "text/html", cookie: other.cookie } });
    expect(mismatched.status).toBe(401);
  });
});

describe("linking a social identity", () => {
  async function link(token: string, provider: string, sub: string) {
    const ls = await api("POST", `/v1/auth/oauth/${provider}/link-start`, { token });
    expect(ls.status).toBe(200);
    const callback = await authorizeAt(new URL(ls.body.authorizeUrl), sub);
    return api("GET", callback, { headers: json });
  }

  it("links to the signed-in user; signing in with that identity lands in the same account", async () => {
    const s = await signIn();
    const sub = uniqueSub("link");
    const linked = await link(s.accessToken, "github", sub);
    expect(linked.status).toBe(200);
    expect(linked.body).toMatchObject({ linked: true, created: false, user: { id: s.user.id } });
    const viaGithub = await signInWith("github", sub);
    expect(viaGithub.body.user).toMatchObject({ id: s.user.id, walletAddress: s.account.address });
    // Linking the same identity to the same user again is a no-op success.
    expect((await link(s.accessToken, "github", sub)).status).toBe(200);
  });

  it("never gives one identity to two users", async () => {
    const owner = await signIn();
    const sub = uniqueSub("taken");
    expect((await link(owner.accessToken, "google", sub)).status).toBe(200);
    const other = await signIn();
    const res = await link(other.accessToken, "google", sub);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe("identity_taken");
    // An identity that signed up on its own cannot be linked elsewhere either.
    const solo = uniqueSub("solo");
    await signInWith("google", solo);
    expect((await link(other.accessToken, "google", solo)).status).toBe(409);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM oauth_identities WHERE subject IN (?, ?)")
      .bind(sub, solo)
      .first<{ n: number }>();
    expect(rows!.n).toBe(2);
  });

  it("requires a signed-in user to start a link", async () => {
    expect((await api("POST", "/v1/auth/oauth/google/link-start")).status).toBe(401);
  });

  it("documents the routes", async () => {
    const doc = await api("GET", "/openapi.json");
    for (const p of ["{provider}/start", "{provider}/link-start", "{provider}/callback", "exchange"]) {
      expect(doc.body.paths[`/v1/auth/oauth/${p}`], p).toBeDefined();
    }
  });
});
