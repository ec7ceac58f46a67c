import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, signIn } from "./helpers";
import { SoftAuthenticator } from "./identity-helpers";

async function registerNew(auth: SoftAuthenticator) {
  const options = await api("POST", "/v1/auth/passkey/register/options");
  expect(options.status).toBe(200);
  const res = await api("POST", "/v1/auth/passkey/register/verify", { body: await auth.register(options.body) });
  expect(res.status).toBe(200);
  return res.body;
}

async function login(auth: SoftAuthenticator, opts: { counter?: number; origin?: string } = {}) {
  const options = await api("POST", "/v1/auth/passkey/login/options");
  expect(options.status).toBe(200);
  const assertion = await auth.assert(options.body, opts);
  return { res: await api("POST", "/v1/auth/passkey/login/verify", { body: assertion }), assertion };
}

async function storedCredential(id: string) {
  return env.DB.prepare("SELECT * FROM passkey_credentials WHERE id = ?").bind(id).first<Record<string, any>>();
}

describe("passkeys", () => {
  it("lists passkey (and the configured social providers) among the sign-in methods", async () => {
    const res = await api("GET", "/v1/auth/providers");
    expect(res.body.methods).toEqual(["siwe", "passkey", "code:email", "code:phone", "oauth:google", "oauth:github"]);
  });

  it("issues creation options bound to the RP (the origin's host) with a fresh challenge", async () => {
    const a = await api("POST", "/v1/auth/passkey/register/options");
    const b = await api("POST", "/v1/auth/passkey/register/options");
    expect(a.body.rp).toEqual({ id: "127.0.0.1", name: "Paid Inbox" });
    expect(a.body.attestation).toBe("none");
    expect(a.body.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    expect(a.body.challenge).not.toBe(b.body.challenge);
    const row = await env.DB.prepare("SELECT kind, used_at, expires_at FROM auth_challenges WHERE id = ?")
      .bind(a.body.challenge)
      .first<Record<string, any>>();
    expect(row).toMatchObject({ kind: "passkey_register", used_at: null });
    expect(row!.expires_at).toBeGreaterThan(Date.now());
  });

  it("registers a new account with a passkey and signs in with it, storing the sign counter", async () => {
    const auth = await SoftAuthenticator.create();
    const reg = await registerNew(auth);
    expect(reg.user.id).toMatch(/^u_/);
    expect(reg.user.walletAddress).toBeNull();
    expect(reg.credentialId).toBe(auth.id);
    expect((await api("GET", "/v1/me", { token: reg.accessToken })).body.user.id).toBe(reg.user.id);
    expect(await storedCredential(auth.id)).toMatchObject({ user_id: reg.user.id, counter: 0 });

    const first = await login(auth);
    expect(first.res.status).toBe(200);
    expect(first.res.body.user.id).toBe(reg.user.id);
    expect(typeof first.res.body.refreshToken).toBe("string");
    const second = await login(auth);
    expect(second.res.status).toBe(200);
    const row = await storedCredential(auth.id);
    expect(row!.counter).toBe(2);
    expect(row!.last_used_at).toBeGreaterThan(0);
  });

  it("adds a second passkey to a signed-in user; each signs in to the same account", async () => {
    const one = await SoftAuthenticator.create();
    const reg = await registerNew(one);
    const two = await SoftAuthenticator.create();
    const options = await api("POST", "/v1/auth/passkey/register/options", { token: reg.accessToken });
    expect(options.status).toBe(200);
    expect(options.body.excludeCredentials.map((c: { id: string }) => c.id)).toEqual([one.id]);
    const added = await api("POST", "/v1/auth/passkey/register/verify", {
      token: reg.accessToken,
      body: await two.register(options.body),
    });
    expect(added.status).toBe(200);
    expect(added.body.user.id).toBe(reg.user.id);

    const viaOne = await login(one);
    const viaTwo = await login(two);
    expect(viaOne.res.body.user.id).toBe(reg.user.id);
    expect(viaTwo.res.body.user.id).toBe(reg.user.id);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM passkey_credentials WHERE user_id = ?")
      .bind(reg.user.id)
      .first<{ n: number }>();
    expect(count!.n).toBe(2);
  });

  it("adds a passkey to a wallet user", async () => {
    const s = await signIn();
    const auth = await SoftAuthenticator.create();
    const options = await api("POST", "/v1/auth/passkey/register/options", { token: s.accessToken });
    const added = await api("POST", "/v1/auth/passkey/register/verify", {
      token: s.accessToken,
      body: await auth.register(options.body),
    });
    expect(added.status).toBe(200);
    expect((await login(auth)).res.body.user.walletAddress).toBe(s.account.address);
  });

  it("refuses a challenge issued to a signed-in user when the verify comes without that user's token", async () => {
    const s = await signIn();
    const other = await signIn();
    const auth = await SoftAuthenticator.create();
    const options = await api("POST", "/v1/auth/passkey/register/options", { token: s.accessToken });
    const anonymous = await api("POST", "/v1/auth/passkey/register/verify", {
      body: await auth.register(options.body),
    });
    expect(anonymous.status).toBe(401);
    const options2 = await api("POST", "/v1/auth/passkey/register/options", { token: s.accessToken });
    const wrongUser = await api("POST", "/v1/auth/passkey/register/verify", {
      token: other.accessToken,
      body: await auth.register(options2.body),
    });
    expect(wrongUser.status).toBe(401);
  });

  it("rejects a replayed registration and a replayed assertion (challenges are single use)", async () => {
    const auth = await SoftAuthenticator.create();
    const options = await api("POST", "/v1/auth/passkey/register/options");
    const response = await auth.register(options.body);
    expect((await api("POST", "/v1/auth/passkey/register/verify", { body: response })).status).toBe(200);
    const replayReg = await api("POST", "/v1/auth/passkey/register/verify", { body: response });
    expect(replayReg.status).toBe(401);
    expect(replayReg.body.error).toBe("unauthorized");

    const { res, assertion } = await login(auth);
    expect(res.status).toBe(200);
    const replay = await api("POST", "/v1/auth/passkey/login/verify", { body: assertion });
    expect(replay.status).toBe(401);
  });

  it("lets only one of several concurrent verifies of the same assertion through", async () => {
    const auth = await SoftAuthenticator.create();
    await registerNew(auth);
    const options = await api("POST", "/v1/auth/passkey/login/options");
    const assertion = await auth.assert(options.body);
    const results = await Promise.all(
      [1, 2, 3].map(() => api("POST", "/v1/auth/passkey/login/verify", { body: assertion })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
  });

  it("rejects sign-in with an unknown credential", async () => {
    const stranger = await SoftAuthenticator.create();
    const { res } = await login(stranger);
    expect(res.status).toBe(401);
  });

  it("rejects an expired challenge, a foreign origin, and a sign counter that went backwards", async () => {
    const auth = await SoftAuthenticator.create();
    await registerNew(auth);
    expect((await login(auth, { counter: 5 })).res.status).toBe(200);

    const options = await api("POST", "/v1/auth/passkey/login/options");
    await env.DB.prepare("UPDATE auth_challenges SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, options.body.challenge)
      .run();
    const expired = await api("POST", "/v1/auth/passkey/login/verify", { body: await auth.assert(options.body) });
    expect(expired.status).toBe(401);

    expect((await login(auth, { origin: "https://evil.example" })).res.status).toBe(401);
    // A clone of the authenticator replaying an older counter is refused; the stored counter does not move.
    expect((await login(auth, { counter: 3 })).res.status).toBe(401);
    expect((await storedCredential(auth.id))!.counter).toBe(5);
  });

  it("refuses to register the same credential twice", async () => {
    const auth = await SoftAuthenticator.create();
    const reg = await registerNew(auth);
    const options = await api("POST", "/v1/auth/passkey/register/options", { token: reg.accessToken });
    const again = await api("POST", "/v1/auth/passkey/register/verify", {
      token: reg.accessToken,
      body: await auth.register(options.body),
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("credential_exists");
  });

  it("validates bodies with 400s and documents the routes", async () => {
    const bad = await api("POST", "/v1/auth/passkey/login/verify", { body: { id: "x" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_request");
    const doc = await api("GET", "/openapi.json");
    for (const p of ["register/options", "register/verify", "login/options", "login/verify"]) {
      expect(doc.body.paths[`/v1/auth/passkey/${p}`]).toBeDefined();
    }
  });
});
