// No phone number or email in clear: run a full verification (email + phone,
// wrong code, discovery lookups, an HTTP-provider failure, social sign-in whose
// profile carries an email) while capturing console output, then dump every D1
// table and look for the targets. The dev_outbox table is skipped on purpose: it
// is the development stand-in for the SMS/email provider and exists to show what
// was "sent" (GET /v1/dev/outbox, development only).
import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { contactContext, normalizeEmail, open } from "../worker/identity/pii";
import { api, signUp } from "./helpers";
import { apiWith, outboxCode, uniqueIp, uniquePhone, verifyTarget } from "./identity-helpers";

const captured: string[] = [];
const methods = ["log", "info", "warn", "error", "debug"] as const;

beforeEach(() => {
  captured.length = 0;
  for (const m of methods) {
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      captured.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message} ${a.stack}` : String(a))).join(" "));
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function dumpD1(): Promise<{ tables: string[]; text: string }> {
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%'",
  ).all<{ name: string }>();
  const tables = results.map((r) => r.name).filter((n) => n !== "dev_outbox");
  let text = "";
  for (const t of tables) {
    const rows = await env.DB.prepare(`SELECT * FROM "${t}"`).all();
    text += `${t}\n${JSON.stringify(rows.results)}\n`;
  }
  return { tables, text };
}

describe("PII protection", () => {
  it("never writes a phone number or email in clear to D1 or to the logs", async () => {
    const s = await signUp("pii");
    const phone = uniquePhone();
    const email = `Pii.Person.${Date.now().toString(36)}@Example.test`;
    const ip = uniqueIp();

    // A wrong code first, then the full email verification.
    const req = await api("POST", "/v1/verify/request", {
      token: s.accessToken,
      body: { channel: "email", target: email },
      headers: { "cf-connecting-ip": ip },
    });
    expect(req.status).toBe(202);
    const code = await outboxCode(normalizeEmail(email)!);
    const bad = await api("POST", "/v1/verify/confirm", {
      token: s.accessToken,
      body: { verificationId: req.body.verificationId, code: code === "000000" ? "000001" : "000000" },
    });
    expect(bad.status).toBe(400);
    const ok = await api("POST", "/v1/verify/confirm", {
      token: s.accessToken,
      body: { verificationId: req.body.verificationId, code },
    });
    expect(ok.status).toBe(200);

    // Phone: verify, opt in to discovery, look it up anonymously and signed in.
    await verifyTarget(s.accessToken, "phone", phone, ip);
    await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { discoverableByPhone: true } });
    expect((await api("POST", "/v1/recipients/lookup", { body: { phone: phone } })).status).toBe(200);
    expect((await api("POST", "/v1/recipients/lookup", { body: { phone: phone }, token: s.accessToken })).status).toBe(
      200,
    );
    // A cooldown refusal and an invalid target on the way.
    expect(
      (await api("POST", "/v1/verify/request", { token: s.accessToken, body: { channel: "phone", target: phone } }))
        .status,
    ).toBe(429);
    expect(
      (
        await api("POST", "/v1/verify/request", {
          token: s.accessToken,
          body: { channel: "phone", target: `${phone}999999` },
        })
      ).status,
    ).toBe(400);
    // A failing HTTP provider (logs a warning).
    await fetch(`${env.FAKE_PROVIDER_URL}/_fake/fail-next`, { method: "POST" });
    const failed = await apiWith({ OTP_PROVIDER: "http" }, "POST", "/v1/verify/request", {
      token: s.accessToken,
      body: { channel: "phone", target: uniquePhone() },
      headers: { "cf-connecting-ip": ip },
    });
    expect(failed.status).toBe(502);

    const me = await api("GET", "/v1/me", { token: s.accessToken });
    expect(me.body.user.verified).toEqual({ email: true, phone: true });

    const { tables, text } = await dumpD1();
    for (const t of ["users", "user_contacts", "verifications", "auth_challenges", "refresh_tokens"]) {
      expect(tables).toContain(t);
    }
    const needles = [phone, phone.slice(1), phone.slice(2), email, email.toLowerCase(), email.split("@")[0]];
    for (const needle of needles) {
      expect(text.toLowerCase()).not.toContain(needle.toLowerCase());
      expect(captured.join("\n").toLowerCase()).not.toContain(needle.toLowerCase());
    }
    expect(captured.some((l) => l.includes("otp delivery failed"))).toBe(true);

    // What is stored is ciphertext that opens to the normalized target with the PII key.
    const contacts = await env.DB.prepare("SELECT * FROM user_contacts WHERE user_id = ? ORDER BY channel")
      .bind(s.user.id)
      .all<{ channel: "email" | "phone"; ciphertext: string; iv: string; key_version: number; blind_index: string }>();
    expect(contacts.results.map((r) => r.channel)).toEqual(["email", "phone"]);
    const opened = await Promise.all(
      contacts.results.map((r) =>
        open(
          env,
          { ciphertext: r.ciphertext, iv: r.iv, keyVersion: r.key_version },
          contactContext(s.user.id, r.channel),
        ),
      ),
    );
    expect(opened).toEqual([email.toLowerCase(), phone]);
    expect(contacts.results.every((r) => r.key_version === 1 && /^[0-9a-f]{64}$/.test(r.blind_index))).toBe(true);
    // Sealed to its row: the same ciphertext does not open for another user.
    await expect(
      open(
        env,
        {
          ciphertext: contacts.results[1].ciphertext,
          iv: contacts.results[1].iv,
          keyVersion: 1,
        },
        contactContext("u_someone_else", "phone"),
      ),
    ).rejects.toThrow();
  });
});
