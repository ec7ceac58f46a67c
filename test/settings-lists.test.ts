// What the settings screen lists: sign-in methods (with passkey removal, never the
// last way in) and the allowlist / blocklist with handles.
import { describe, expect, it } from "vitest";
import { api, signIn, signUp } from "./helpers";
import { SoftAuthenticator } from "./identity-helpers";

async function passkeyUser(auth: SoftAuthenticator) {
  const options = await api("POST", "/v1/auth/passkey/register/options");
  const res = await api("POST", "/v1/auth/passkey/register/verify", { body: await auth.register(options.body) });
  expect(res.status).toBe(200);
  return res.body;
}

async function addPasskey(token: string, auth: SoftAuthenticator) {
  const options = await api("POST", "/v1/auth/passkey/register/options", { token });
  const res = await api("POST", "/v1/auth/passkey/register/verify", { token, body: await auth.register(options.body) });
  expect(res.status).toBe(200);
}

describe("sign-in methods", () => {
  it("lists the wallet and passkeys, removes a passkey, and refuses to remove the last way in", async () => {
    const one = await SoftAuthenticator.create();
    const two = await SoftAuthenticator.create();
    const user = await passkeyUser(one);
    await addPasskey(user.accessToken, two);
    const listed = await api("GET", "/v1/me/sign-in-methods", { token: user.accessToken });
    expect(listed.status).toBe(200);
    expect(listed.body.walletAddress).toBeNull();
    expect(listed.body.passkeys.map((k: { id: string }) => k.id).sort()).toEqual([one.id, two.id].sort());
    expect(listed.body.oauth).toEqual([]);

    expect((await api("DELETE", `/v1/me/passkeys/${one.id}`, { token: user.accessToken })).status).toBe(204);
    const last = await api("DELETE", `/v1/me/passkeys/${two.id}`, { token: user.accessToken });
    expect(last.status).toBe(409);
    expect(last.body.error).toBe("last_sign_in_method");
    const after = await api("GET", "/v1/me/sign-in-methods", { token: user.accessToken });
    expect(after.body.passkeys.map((k: { id: string }) => k.id)).toEqual([two.id]);
    // A removed passkey no longer signs in.
    const options = await api("POST", "/v1/auth/passkey/login/options");
    const refused = await api("POST", "/v1/auth/passkey/login/verify", { body: await one.assert(options.body) });
    expect(refused.status).toBe(401);
  });

  it("lets a wallet user remove their only passkey, and nobody remove someone else's", async () => {
    const walletUser = await signIn();
    const key = await SoftAuthenticator.create();
    await addPasskey(walletUser.accessToken, key);
    const stranger = await signIn();
    expect((await api("DELETE", `/v1/me/passkeys/${key.id}`, { token: stranger.accessToken })).status).toBe(404);
    expect((await api("DELETE", `/v1/me/passkeys/${key.id}`, { token: walletUser.accessToken })).status).toBe(204);
    const listed = await api("GET", "/v1/me/sign-in-methods", { token: walletUser.accessToken });
    expect(listed.body.walletAddress).toBe(walletUser.account.address);
    expect(listed.body.passkeys).toEqual([]);
  });
});

describe("sender lists", () => {
  it("lists the allowlist with discounts and the blocklist, with handles, and follows removals", async () => {
    const me = await signUp("lists");
    const friend = await signUp("friend");
    const pest = await signUp("pest");
    expect(
      (await api("PUT", `/v1/me/allowlist/${friend.handle}`, { token: me.accessToken, body: { discountBps: 5000 } }))
        .status,
    ).toBe(200);
    expect((await api("PUT", `/v1/me/blocklist/${pest.handle}`, { token: me.accessToken })).status).toBe(204);
    const lists = await api("GET", "/v1/me/senders", { token: me.accessToken });
    expect(lists.body).toEqual({
      allowlist: [{ sender: friend.user.id, handle: friend.handle, discountBps: 5000 }],
      blocklist: [{ sender: pest.user.id, handle: pest.handle }],
    });
    await api("DELETE", `/v1/me/blocklist/${pest.user.id}`, { token: me.accessToken });
    await api("DELETE", `/v1/me/allowlist/${friend.handle}`, { token: me.accessToken });
    expect((await api("GET", "/v1/me/senders", { token: me.accessToken })).body).toEqual({
      allowlist: [],
      blocklist: [],
    });
    // Another user's lists are their own.
    expect((await api("GET", "/v1/me/senders", { token: friend.accessToken })).body).toEqual({
      allowlist: [],
      blocklist: [],
    });
  });

  it("GET /v1/me carries the profile's bio and discoverability", async () => {
    const me = await signUp("prof");
    await api("PUT", "/v1/me/profile", { token: me.accessToken, body: { bio: "Hi", discoverableByPhone: true } });
    const res = await api("GET", "/v1/me", { token: me.accessToken });
    expect(res.body.profile).toEqual({ bio: "Hi", discoverableByPhone: true, discoverableInSearch: true });
  });
});
