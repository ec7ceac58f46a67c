// Sign-in with a one-time code by email or SMS: the account that owns the verified
// contact, or a new one with it verified; the usual code rules.
import { describe, expect, it } from "vitest";
import { api, ORIGIN, signIn } from "./helpers";
import { outboxCode, uniqueEmail, uniqueIp, uniquePhone, verifyTarget } from "./identity-helpers";

async function start(channel: "email" | "phone", target: string) {
  const res = await api("POST", "/v1/auth/code/start", {
    body: { channel, target },
    headers: { "cf-connecting-ip": uniqueIp() },
  });
  expect(res.status).toBe(202);
  return res.body.challengeId as string;
}

describe("code sign-in", () => {
  it("creates an account with a verified email on first sign-in", async () => {
    const email = uniqueEmail("codes");
    const challengeId = await start("email", email);
    const first = await api("POST", "/v1/auth/code/verify", { body: { challengeId, code: await outboxCode(email) } });
    expect(first.status).toBe(200);
    expect(first.body.created).toBe(true);
    expect(first.body.user.verified.email).toBe(true);
    expect(first.body.refreshToken).toBeTruthy();

    // The address is now that account's verified contact: signing in with it finds the account.
    const owner = await api("GET", "/v1/me", { token: first.body.accessToken });
    expect(owner.body.user.verified.email).toBe(true);
    // Asking again at once is the resend cooldown.
    const soon = await api("POST", "/v1/auth/code/start", { body: { channel: "email", target: email.toUpperCase() } });
    expect(soon.status).toBe(429);
  });

  it("answers the web UI with a cookie session", async () => {
    const email = uniqueEmail("cookie");
    const challengeId = await start("email", email);
    const res = await api("POST", "/v1/auth/code/verify", {
      body: { challengeId, code: await outboxCode(email) },
      headers: { "x-session": "cookie", origin: ORIGIN },
    });
    expect(res.status).toBe(200);
    expect(res.body.refreshToken).toBeUndefined();
    expect(res.headers.getSetCookie().join("\n")).toContain("HttpOnly");
  });

  it("signs in the account that verified this phone number", async () => {
    const owner = await signIn();
    const phone = uniquePhone();
    await verifyTarget(owner.accessToken, "phone", phone);
    const challengeId = await start("phone", phone);
    const res = await api("POST", "/v1/auth/code/verify", { body: { challengeId, code: await outboxCode(phone) } });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(owner.user.id);
    expect(res.body.created).toBe(false);
  });

  it("refuses a wrong code, stops after 5 attempts, and never accepts a code twice", async () => {
    const email = uniqueEmail("guess");
    const challengeId = await start("email", email);
    const code = await outboxCode(email);
    const wrong = code === "000000" ? "111111" : "000000";
    const bad = await api("POST", "/v1/auth/code/verify", { body: { challengeId, code: wrong } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_code");
    // The same redemption rules as contact verification (worker/identity/otp.ts redeemCode).
    expect(bad.body.attemptsLeft).toBe(4);
    const ok = await api("POST", "/v1/auth/code/verify", { body: { challengeId, code } });
    expect(ok.status).toBe(200);
    const reuse = await api("POST", "/v1/auth/code/verify", { body: { challengeId, code } });
    expect(reuse.status).toBe(410);

    const other = uniqueEmail("brute");
    const id2 = await start("email", other);
    for (let i = 0; i < 5; i++) {
      expect((await api("POST", "/v1/auth/code/verify", { body: { challengeId: id2, code: wrong } })).status).toBe(400);
    }
    const locked = await api("POST", "/v1/auth/code/verify", {
      body: { challengeId: id2, code: await outboxCode(other) },
    });
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe("too_many_attempts");
  });

  it("refuses a target that is not an email or an E.164 number, and a resend inside the cooldown", async () => {
    const bad = await api("POST", "/v1/auth/code/start", { body: { channel: "phone", target: "555-0100" } });
    expect(bad.status).toBe(400);
    const email = uniqueEmail("cool");
    await start("email", email);
    const again = await api("POST", "/v1/auth/code/start", { body: { channel: "email", target: email } });
    expect(again.status).toBe(429);
    expect(again.headers.get("retry-after")).toBeTruthy();
  });
});
