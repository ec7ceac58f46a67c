import { env } from "cloudflare:test";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { api, signIn } from "./helpers";

async function challengeFor(address: string) {
  const res = await api("POST", "/v1/auth/siwe/challenge", { body: { address } });
  expect(res.status).toBe(200);
  return res.body.message as string;
}

describe("SIWE sign-in", () => {
  it("creates the user on first sign-in and finds the same user the next time", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const first = await signIn(account);
    expect(first.user.walletAddress).toBe(account.address);
    expect(first.user.id).toMatch(/^u_/);
    const again = await signIn(account);
    expect(again.user.id).toBe(first.user.id);
    const me = await api("GET", "/v1/me", { token: again.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(first.user.id);
    expect(me.body.balance).toBe("0");
  });

  it("issues an EIP-4361 message bound to this domain, chain and a 10-minute window", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const message = await challengeFor(account.address);
    expect(message).toContain("127.0.0.1:8787 wants you to sign in with your Ethereum account:");
    expect(message).toContain(`\n${account.address}\n`);
    expect(message).toContain("Chain ID: 31337");
    const issued = Date.parse(message.match(/Issued At: (.+)/)![1]);
    const expires = Date.parse(message.match(/Expiration Time: (.+)/)![1]);
    expect(expires - issued).toBeLessThanOrEqual(10 * 60 * 1000);
  });

  it("refuses a signature from the wrong signer", async () => {
    const victim = privateKeyToAccount(generatePrivateKey());
    const attacker = privateKeyToAccount(generatePrivateKey());
    const message = await challengeFor(victim.address);
    const signature = await attacker.signMessage({ message });
    const res = await api("POST", "/v1/auth/siwe/verify", { body: { message, signature } });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("unauthorized");
  });

  it("refuses a reused nonce", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const message = await challengeFor(account.address);
    const signature = await account.signMessage({ message });
    const ok = await api("POST", "/v1/auth/siwe/verify", { body: { message, signature } });
    expect(ok.status).toBe(200);
    const replay = await api("POST", "/v1/auth/siwe/verify", { body: { message, signature } });
    expect(replay.status).toBe(401);
  });

  // Hostile review: nonces came from Math.random (predictable), and a junk verify
  // naming a victim's nonce claimed it before the message was compared.
  it("draws nonces from the CSPRNG: 128 bits, independent of Math.random", async () => {
    const random = Math.random;
    Math.random = () => 0.5;
    try {
      const address = privateKeyToAccount(generatePrivateKey()).address;
      const nonces = await Promise.all(
        [1, 2, 3].map(async () => (await challengeFor(address)).match(/Nonce: (\S+)/)![1]),
      );
      for (const n of nonces) expect(n).toMatch(/^[0-9a-f]{32}$/);
      expect(new Set(nonces).size).toBe(3);
    } finally {
      Math.random = random;
    }
  });

  it("does not let a junk verify burn someone else's nonce", async () => {
    const victim = privateKeyToAccount(generatePrivateKey());
    const attacker = privateKeyToAccount(generatePrivateKey());
    const message = await challengeFor(victim.address);
    // The attacker knows the nonce and tries it with an altered message, its own
    // address, and a bad signature.
    const altered = message.replace("Sign in to Paid Inbox.", "Sign in to Paid Inbox!");
    const ownAddress = message.replace(victim.address, attacker.address);
    for (const [m, signer] of [
      [altered, attacker],
      [ownAddress, attacker],
      [message, attacker],
    ] as const) {
      const junk = await api("POST", "/v1/auth/siwe/verify", {
        body: { message: m, signature: await signer.signMessage({ message: m }) },
      });
      expect(junk.status).toBe(401);
    }
    const signature = await victim.signMessage({ message });
    const res = await api("POST", "/v1/auth/siwe/verify", { body: { message, signature } });
    expect(res.status).toBe(200);
    expect(res.body.user.walletAddress).toBe(victim.address);
  });

  it("lets only one of two concurrent verifies of the same message through", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const message = await challengeFor(account.address);
    const signature = await account.signMessage({ message });
    const results = await Promise.all(
      [1, 2, 3].map(() => api("POST", "/v1/auth/siwe/verify", { body: { message, signature } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
  });

  it("refuses an expired challenge", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const message = await challengeFor(account.address);
    const nonce = message.match(/Nonce: (\S+)/)![1];
    await env.DB.prepare("UPDATE auth_challenges SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, nonce)
      .run();
    const signature = await account.signMessage({ message });
    const res = await api("POST", "/v1/auth/siwe/verify", { body: { message, signature } });
    expect(res.status).toBe(401);
  });

  it("refuses an altered message, even one correctly signed by the address", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const message = await challengeFor(account.address);
    // The user signs a message whose expiry the client pushed out by a year.
    const altered = message.replace(/Expiration Time: (\d{4})/, (_, y) => `Expiration Time: ${Number(y) + 1}`);
    expect(altered).not.toBe(message);
    const signature = await account.signMessage({ message: altered });
    const res = await api("POST", "/v1/auth/siwe/verify", { body: { message: altered, signature } });
    expect(res.status).toBe(401);
  });

  it("refuses a message for another domain", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const message = (await challengeFor(account.address)).replace("127.0.0.1:8787 wants", "evil.example wants");
    const signature = await account.signMessage({ message });
    const res = await api("POST", "/v1/auth/siwe/verify", { body: { message, signature } });
    expect(res.status).toBe(401);
  });

  it("validates inputs with 400s", async () => {
    expect((await api("POST", "/v1/auth/siwe/challenge", { body: { address: "0x123" } })).status).toBe(400);
    const bad = await api("POST", "/v1/auth/siwe/verify", { body: { message: "hello", signature: "nothex" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_request");
    expect(bad.body.issues[0].path).toBe("signature");
  });
});

describe("sessions", () => {
  it("rotates refresh tokens and revokes the family when a rotated token is reused", async () => {
    const s = await signIn();
    const r1 = await api("POST", "/v1/auth/refresh", { body: { refreshToken: s.refreshToken } });
    expect(r1.status).toBe(200);
    expect(r1.body.refreshToken).not.toBe(s.refreshToken);
    expect(r1.body.user.id).toBe(s.user.id);
    // The new access token works.
    expect((await api("GET", "/v1/me", { token: r1.body.accessToken })).status).toBe(200);

    // Reuse of the rotated token: refused, and the family (including r1's token) is revoked.
    const reuse = await api("POST", "/v1/auth/refresh", { body: { refreshToken: s.refreshToken } });
    expect(reuse.status).toBe(401);
    const afterRevoke = await api("POST", "/v1/auth/refresh", { body: { refreshToken: r1.body.refreshToken } });
    expect(afterRevoke.status).toBe(401);
  });

  it("keeps other sessions of the same user alive when one family is revoked", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const a = await signIn(account);
    const b = await signIn(account);
    await api("POST", "/v1/auth/refresh", { body: { refreshToken: a.refreshToken } });
    await api("POST", "/v1/auth/refresh", { body: { refreshToken: a.refreshToken } }); // reuse → revoke a's family
    const bRefresh = await api("POST", "/v1/auth/refresh", { body: { refreshToken: b.refreshToken } });
    expect(bRefresh.status).toBe(200);
  });

  it("logout revokes the refresh family", async () => {
    const s = await signIn();
    const out = await api("POST", "/v1/auth/logout", { token: s.accessToken, body: { refreshToken: s.refreshToken } });
    expect(out.status).toBe(204);
    const res = await api("POST", "/v1/auth/refresh", { body: { refreshToken: s.refreshToken } });
    expect(res.status).toBe(401);
  });

  it("logout takes an empty body sent as application/json (the body is optional)", async () => {
    const s = await signIn();
    const out = await api("POST", "/v1/auth/logout", {
      token: s.accessToken,
      raw: "",
      headers: { "content-type": "application/json" },
    });
    expect(out.status).toBe(204);
    // Without a token in the body every session is signed out.
    expect((await api("POST", "/v1/auth/refresh", { body: { refreshToken: s.refreshToken } })).status).toBe(401);
    const bad = await api("POST", "/v1/auth/logout", { token: (await signIn()).accessToken, raw: "{" });
    expect(bad.status).toBe(400);
  });

  it("stores refresh tokens hashed, never in clear", async () => {
    const s = await signIn();
    const rows = await env.DB.prepare("SELECT * FROM refresh_tokens WHERE user_id = ?").bind(s.user.id).all();
    expect(rows.results.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows.results)).not.toContain(s.refreshToken);
  });

  it("answers 401 for missing, garbage, wrongly signed and expired access tokens", async () => {
    const s = await signIn();
    expect((await api("GET", "/v1/me")).status).toBe(401);
    expect((await api("GET", "/v1/me", { token: "garbage" })).status).toBe(401);
    const [h, p] = s.accessToken.split(".");
    expect((await api("GET", "/v1/me", { token: `${h}.${p}.AAAA` })).status).toBe(401);
    const { SignJWT } = await import("jose");
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(s.user.id)
      .setIssuer("paid-inbox")
      .setAudience("paid-inbox:api")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    const res = await api("GET", "/v1/me", { token: expired });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: "unauthorized" });
    // An access token lives 15 minutes.
    const refreshed = await api("POST", "/v1/auth/refresh", { body: { refreshToken: s.refreshToken } });
    expect(refreshed.body.expiresIn).toBe(900);
  });
});
