import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, signIn, signUp } from "./helpers";
import {
  apiWith,
  fakeMessages,
  outboxCode,
  uniqueEmail,
  uniqueIp,
  uniquePhone,
  verifyTarget,
} from "./identity-helpers";

async function request(token: string, channel: "email" | "phone", target: string, ip = uniqueIp()) {
  return api("POST", "/v1/verify/request", { token, body: { channel, target }, headers: { "cf-connecting-ip": ip } });
}
async function confirm(token: string, verificationId: string, code: string) {
  return api("POST", "/v1/verify/confirm", { token, body: { verificationId, code } });
}
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe("OTP verification", () => {
  it("verifies an email: 202 with a 10-minute expiry, a 6-digit code in the dev outbox, then 200", async () => {
    const s = await signIn();
    const email = uniqueEmail();
    const before = Date.now();
    const req = await request(s.accessToken, "email", email.toUpperCase());
    expect(req.status).toBe(202);
    expect(req.body.verificationId).toMatch(/^ver_/);
    const expiresAt = Date.parse(req.body.expiresAt);
    expect(expiresAt - before).toBeGreaterThanOrEqual(10 * 60 * 1000 - 1000);
    expect(expiresAt - before).toBeLessThanOrEqual(10 * 60 * 1000 + 5000);

    // The dev provider wrote the normalized (lowercased) address.
    const outbox = await api("GET", `/v1/dev/outbox?to=${encodeURIComponent(email)}`);
    expect(outbox.body.items).toHaveLength(1);
    expect(outbox.body.items[0]).toMatchObject({ to: email, channel: "email" });
    const code = await outboxCode(email);
    expect(code).toMatch(/^\d{6}$/);

    const ok = await confirm(s.accessToken, req.body.verificationId, code);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ channel: "email", verified: true });
    const me = await api("GET", "/v1/me", { token: s.accessToken });
    expect(me.body.user.verified).toEqual({ email: true, phone: false });
  });

  it("verifies a phone number given in E.164 (spaces and dashes tolerated)", async () => {
    const s = await signIn();
    const phone = uniquePhone();
    const spaced = `${phone.slice(0, 2)} ${phone.slice(2, 5)}-${phone.slice(5)}`;
    const req = await request(s.accessToken, "phone", spaced);
    expect(req.status).toBe(202);
    // `+` unencoded in a query string arrives as a space: the outbox still finds it.
    const outbox = await api("GET", `/v1/dev/outbox?to=${phone}`);
    expect(outbox.body.items[0]).toMatchObject({ to: phone, channel: "phone" });
    const ok = await confirm(s.accessToken, req.body.verificationId, await outboxCode(phone));
    expect(ok.body).toEqual({ channel: "phone", verified: true });
    expect((await api("GET", "/v1/me", { token: s.accessToken })).body.user.verified.phone).toBe(true);
  });

  it("refuses invalid targets with 400 and without echoing them", async () => {
    const s = await signIn();
    for (const [channel, target] of [
      ["phone", "4155550123"],
      ["phone", "+0155550123"],
      ["phone", "+1 555 CALL NOW"],
      ["phone", "+1234567890123456"],
      ["email", "not-an-email"],
      ["email", "a@b"],
    ] as const) {
      const res = await request(s.accessToken, channel, target);
      expect(res.status, `${channel} ${target}`).toBe(400);
      expect(res.body.error).toBe("invalid_request");
      expect(JSON.stringify(res.body)).not.toContain(target);
    }
    expect(
      (await api("POST", "/v1/verify/request", { body: { channel: "email", target: uniqueEmail() } })).status,
    ).toBe(401);
  });

  it("answers a wrong code with 400 invalid_code and attemptsLeft, then accepts the right one", async () => {
    const s = await signIn();
    const email = uniqueEmail();
    const req = await request(s.accessToken, "email", email);
    const code = await outboxCode(email);
    const bad = await confirm(s.accessToken, req.body.verificationId, wrong(code));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: "invalid_code", attemptsLeft: 4 });
    const ok = await confirm(s.accessToken, req.body.verificationId, code);
    expect(ok.status).toBe(200);
    // Used codes do not work twice.
    const again = await confirm(s.accessToken, req.body.verificationId, code);
    expect(again.status).toBe(410);
    expect(again.body.error).toBe("expired");
  });

  it("answers 410 expired after 10 minutes", async () => {
    const s = await signIn();
    const phone = uniquePhone();
    const req = await request(s.accessToken, "phone", phone);
    await env.DB.prepare("UPDATE verifications SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, req.body.verificationId)
      .run();
    const res = await confirm(s.accessToken, req.body.verificationId, await outboxCode(phone));
    expect(res.status).toBe(410);
    expect(res.body.error).toBe("expired");
    expect((await api("GET", "/v1/me", { token: s.accessToken })).body.user.verified.phone).toBe(false);
  });

  it("locks the code after 5 wrong attempts, even against the right code", async () => {
    const s = await signIn();
    const email = uniqueEmail();
    const req = await request(s.accessToken, "email", email);
    const code = await outboxCode(email);
    const left: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await confirm(s.accessToken, req.body.verificationId, wrong(code));
      expect(res.status).toBe(400);
      left.push(res.body.attemptsLeft);
    }
    expect(left).toEqual([4, 3, 2, 1, 0]);
    const locked = await confirm(s.accessToken, req.body.verificationId, code);
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe("too_many_attempts");
  });

  it("counts attempts exactly under concurrency (no more than 5 guesses)", async () => {
    const s = await signIn();
    const email = uniqueEmail();
    const req = await request(s.accessToken, "email", email);
    const code = await outboxCode(email);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        confirm(s.accessToken, req.body.verificationId, String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0")),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((x) => x === 400)).toHaveLength(5);
    expect(statuses.filter((x) => x === 429)).toHaveLength(7);
  });

  it("enforces the resend cooldown with 429 rate_limited and Retry-After", async () => {
    const s = await signIn();
    const phone = uniquePhone();
    expect((await request(s.accessToken, "phone", phone)).status).toBe(202);
    const again = await request(s.accessToken, "phone", phone);
    expect(again.status).toBe(429);
    expect(again.body.error).toBe("rate_limited");
    const retry = Number(again.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    // A different target is not affected.
    expect((await request(s.accessToken, "phone", uniquePhone())).status).toBe(202);
  });

  it("resends after the cooldown passes", async () => {
    const s = await signIn();
    const email = uniqueEmail();
    const vars = { OTP_RESEND_COOLDOWN_SECONDS: "1" };
    const body = { channel: "email", target: email };
    expect((await apiWith(vars, "POST", "/v1/verify/request", { token: s.accessToken, body })).status).toBe(202);
    expect((await apiWith(vars, "POST", "/v1/verify/request", { token: s.accessToken, body })).status).toBe(429);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await apiWith(vars, "POST", "/v1/verify/request", { token: s.accessToken, body })).status).toBe(202);
  });

  it("caps codes per target per day", async () => {
    const s = await signIn();
    const phone = uniquePhone();
    const vars = { OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_TARGET_DAILY_CAP: "2" };
    const send = (ip: string) =>
      apiWith(vars, "POST", "/v1/verify/request", {
        token: s.accessToken,
        body: { channel: "phone", target: phone },
        headers: { "cf-connecting-ip": ip },
      });
    expect((await send(uniqueIp())).status).toBe(202);
    expect((await send(uniqueIp())).status).toBe(202);
    const capped = await send(uniqueIp());
    expect(capped.status).toBe(429);
    expect(capped.body.error).toBe("rate_limited");
    expect(Number(capped.headers.get("retry-after"))).toBeGreaterThan(23 * 3600);
  });

  it("caps codes per client IP per day, exactly under concurrency", async () => {
    const s = await signIn();
    const ip = uniqueIp();
    const vars = { OTP_IP_DAILY_CAP: "3" };
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        apiWith(vars, "POST", "/v1/verify/request", {
          token: s.accessToken,
          body: { channel: "email", target: uniqueEmail("cap") },
          headers: { "cf-connecting-ip": ip },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 202)).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(5);
    // Another network is unaffected.
    const other = await apiWith(vars, "POST", "/v1/verify/request", {
      token: s.accessToken,
      body: { channel: "email", target: uniqueEmail("cap") },
      headers: { "cf-connecting-ip": uniqueIp() },
    });
    expect(other.status).toBe(202);
  });

  it("does not let one user confirm another user's verification", async () => {
    const a = await signIn();
    const b = await signIn();
    const email = uniqueEmail();
    const req = await request(a.accessToken, "email", email);
    const res = await confirm(b.accessToken, req.body.verificationId, await outboxCode(email));
    expect(res.status).toBe(404);
  });

  it("moves a phone number to the newest verified owner; the previous owner loses it", async () => {
    const a = await signUp("owner_a");
    const b = await signUp("owner_b");
    const phone = uniquePhone();
    await verifyTarget(a.accessToken, "phone", phone);
    await api("PUT", "/v1/me/profile", { token: a.accessToken, body: { discoverableByPhone: true } });
    expect((await api("POST", "/v1/recipients/lookup", { body: { phone: phone } })).body.id).toBe(a.user.id);

    await verifyTarget(b.accessToken, "phone", phone);
    expect((await api("GET", "/v1/me", { token: a.accessToken })).body.user.verified.phone).toBe(false);
    expect((await api("GET", "/v1/me", { token: b.accessToken })).body.user.verified.phone).toBe(true);
    // b has not opted in to discovery, a no longer owns the number.
    expect((await api("POST", "/v1/recipients/lookup", { body: { phone: phone } })).status).toBe(404);
    await api("PUT", "/v1/me/profile", { token: b.accessToken, body: { discoverableByPhone: true } });
    expect((await api("POST", "/v1/recipients/lookup", { body: { phone: phone } })).body.id).toBe(b.user.id);
    const rows = await env.DB.prepare("SELECT user_id FROM user_contacts WHERE user_id IN (?, ?) AND channel = 'phone'")
      .bind(a.user.id, b.user.id)
      .all();
    expect(rows.results).toEqual([{ user_id: b.user.id }]);
  });

  it("replaces a user's own phone when they verify a new one", async () => {
    const s = await signUp("mover");
    const first = uniquePhone();
    const second = uniquePhone();
    await verifyTarget(s.accessToken, "phone", first);
    await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { discoverableByPhone: true } });
    await verifyTarget(s.accessToken, "phone", second);
    expect((await api("POST", "/v1/recipients/lookup", { body: { phone: first } })).status).toBe(404);
    expect((await api("POST", "/v1/recipients/lookup", { body: { phone: second } })).body.id).toBe(s.user.id);
  });
});

describe("OTP HTTP providers (real HTTP to the local fake)", () => {
  const http = { OTP_PROVIDER: "http" };

  it("sends phone codes through the Twilio-shaped API", async () => {
    const s = await signIn();
    const phone = uniquePhone();
    const req = await apiWith(http, "POST", "/v1/verify/request", {
      token: s.accessToken,
      body: { channel: "phone", target: phone },
      headers: { "cf-connecting-ip": uniqueIp() },
    });
    expect(req.status).toBe(202);
    const [sms] = await fakeMessages(phone);
    expect(sms).toMatchObject({ channel: "phone", to: phone });
    const code = sms.text.match(/\b(\d{6})\b/)![1];
    // Nothing went to the dev outbox.
    expect((await api("GET", `/v1/dev/outbox?to=${encodeURIComponent(phone)}`)).body.items).toEqual([]);
    const ok = await confirm(s.accessToken, req.body.verificationId, code);
    expect(ok.body).toEqual({ channel: "phone", verified: true });
  });

  it("sends email codes through the SendGrid-shaped API", async () => {
    const s = await signIn();
    const email = uniqueEmail();
    const req = await apiWith(http, "POST", "/v1/verify/request", {
      token: s.accessToken,
      body: { channel: "email", target: email },
      headers: { "cf-connecting-ip": uniqueIp() },
    });
    expect(req.status).toBe(202);
    const [mail] = await fakeMessages(email);
    expect(mail).toMatchObject({ channel: "email", to: email });
    const ok = await confirm(s.accessToken, req.body.verificationId, mail.text.match(/\b(\d{6})\b/)![1]);
    expect(ok.status).toBe(200);
  });

  it("answers 502 when the provider fails, and retires that code", async () => {
    const s = await signIn();
    await fetch(`${env.FAKE_PROVIDER_URL}/_fake/fail-next`, { method: "POST" });
    const res = await apiWith(http, "POST", "/v1/verify/request", {
      token: s.accessToken,
      body: { channel: "phone", target: uniquePhone() },
      headers: { "cf-connecting-ip": uniqueIp() },
    });
    expect(res.status).toBe(502);
    expect(res.body.error).toBe("otp_delivery_failed");
    const row = await env.DB.prepare("SELECT consumed_at FROM verifications WHERE user_id = ?")
      .bind(s.user.id)
      .first<{ consumed_at: number | null }>();
    expect(row!.consumed_at).not.toBeNull();
  });

  it("refuses bad provider credentials as a delivery failure", async () => {
    const s = await signIn();
    const res = await apiWith({ ...http, SENDGRID_API_KEY: "SG.wrong-key-0123456789" }, "POST", "/v1/verify/request", {
      token: s.accessToken,
      body: { channel: "email", target: uniqueEmail() },
      headers: { "cf-connecting-ip": uniqueIp() },
    });
    expect(res.status).toBe(502);
  });
});

describe("dev outbox", () => {
  it("is 404 outside development, and the dev provider is not used there", async () => {
    const prod = { ENVIRONMENT: "production", APP_ORIGIN: "https://paidinbox.example", ALLOW_SIMULATED_LEDGER: "true" };
    const res = await apiWith(prod, "GET", "/v1/dev/outbox");
    expect(res.status).toBe(404);
    expect(res.body.error).toBe("not_found");
    const s = await signIn();
    const req = await apiWith(prod, "POST", "/v1/verify/request", {
      token: s.accessToken,
      body: { channel: "email", target: uniqueEmail() },
    });
    expect(req.status).toBe(503);
    expect(req.body.error).toBe("otp_unavailable");
  });
});
