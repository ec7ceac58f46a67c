// Abuse controls: each sender-reputation threshold first slows (429 + Retry-After)
// then refuses (403) first-contact sends, with a reason code and nothing
// charged; "report as spam"; admin freeze (sends and withdrawals refused,
// reading allowed). Thresholds are set per request through the Worker's config
// (apiWith), which hands them to the sender's Account with the send.
import { env, runInDurableObject } from "cloudflare:test";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import type { Account } from "../durable-objects/account";
import type { Reputation } from "../worker/domain/reputation";
import { api } from "./helpers";
import { apiWith, uniqueIp } from "./identity-helpers";
import { funded, settled, totals, type User } from "./send-helpers";

const sendWith = (limits: Record<string, string>, from: User, to: User, body = "hello there") =>
  apiWith(limits, "POST", "/v1/messages", { token: from.accessToken, body: { to: to.handle, body } });

async function patchReputation(u: User, patch: Partial<Reputation>) {
  await runInDurableObject(env.ACCOUNT.getByName(u.user.id), (a: Account) => {
    const s = (a as unknown as { s: { reputation: Reputation | null } }).s;
    s.reputation = { ...(s.reputation as Reputation), ...patch };
  });
}

async function recipients(n: number, prefix: string) {
  return Promise.all(Array.from({ length: n }, (_, i) => funded("0", `${prefix}${i}`)));
}

/** A refused send: status, reason code, and the sender's money untouched. */
async function expectRefused(
  res: Awaited<ReturnType<typeof sendWith>>,
  sender: User,
  before: { balance: string; held: string },
  status: 429 | 403,
  reason: string,
) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ error: status === 429 ? "rate_limited" : "sender_restricted", reason });
  if (status === 429) expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(await totals(sender)).toMatchObject({ balance: before.balance, held: before.held });
}

describe("sender reputation thresholds (first contacts only)", () => {
  it("first contacts per hour: slowed, then refused; known contacts unaffected", async () => {
    const L = { ABUSE_FIRST_CONTACTS_PER_HOUR: "2,4" };
    const s = await funded("100000000", "ab_h");
    const [r0, r1, r2, r3, r4] = await recipients(5, "ab_hr");
    expect((await sendWith(L, s, r0)).status).toBe(201);
    expect((await sendWith(L, s, r1)).status).toBe(201);
    // At the slow threshold: one first contact goes through, the next waits.
    expect((await sendWith(L, s, r2)).status).toBe(201);
    await settled(s);
    const before = await totals(s);
    await expectRefused(await sendWith(L, s, r3), s, before, 429, "first_contacts_per_hour");
    // Someone already written to is not a first contact.
    expect((await sendWith(L, s, r0, "again")).status).toBe(201);
    await settled(s);
    // Past the refuse threshold: 403.
    await patchReputation(s, { hourContacts: 4, slowUntil: 0 });
    const now = await totals(s);
    await expectRefused(await sendWith(L, s, r4), s, now, 403, "first_contacts_per_hour");
    // A new hour starts over.
    await patchReputation(s, { hourStart: Date.now() - 3_600_001 });
    expect((await sendWith(L, s, r4)).status).toBe(201);
  });

  it("first contacts per day", async () => {
    const L = { ABUSE_FIRST_CONTACTS_PER_DAY: "3,5" };
    const s = await funded("100000000", "ab_d");
    const [r0, r1] = await recipients(2, "ab_dr");
    expect((await sendWith(L, s, r0)).status).toBe(201);
    await settled(s);
    await patchReputation(s, { dayContacts: 3 });
    expect((await sendWith(L, s, r1)).status).toBe(201); // slowed: one goes through
    await settled(s);
    const [r2] = await recipients(1, "ab_dr2");
    await expectRefused(await sendWith(L, s, r2), s, await totals(s), 429, "first_contacts_per_day");
    await patchReputation(s, { dayContacts: 5, slowUntil: 0 });
    await expectRefused(await sendWith(L, s, r2), s, await totals(s), 403, "first_contacts_per_day");
  });

  it("account age: new accounts get the stricter hourly limit, older ones do not", async () => {
    const L = { ABUSE_NEW_ACCOUNT_FIRST_CONTACTS_PER_HOUR: "1,3", ABUSE_NEW_ACCOUNT_HOURS: "24" };
    const s = await funded("100000000", "ab_n");
    const [r0, r1, r2] = await recipients(3, "ab_nr");
    expect((await sendWith(L, s, r0)).status).toBe(201);
    expect((await sendWith(L, s, r1)).status).toBe(201); // slowed: first one through
    await settled(s);
    await expectRefused(await sendWith(L, s, r2), s, await totals(s), 429, "new_account_first_contacts_per_hour");
    await patchReputation(s, { hourContacts: 3, slowUntil: 0 });
    await expectRefused(await sendWith(L, s, r2), s, await totals(s), 403, "new_account_first_contacts_per_hour");
    await patchReputation(s, { bornAt: Date.now() - 25 * 3_600_000 });
    expect((await sendWith(L, s, r2)).status).toBe(201);
  });

  it("complaints (blocks and spam reports) as a share of first contacts", async () => {
    const s = await funded("100000000", "ab_c");
    const rs = await recipients(6, "ab_cr");
    for (const r of rs.slice(0, 5)) expect((await sendWith({}, s, r)).status).toBe(201);
    await settled(s);
    // One recipient blocks, one reports (and reporting twice or also blocking counts once).
    expect((await api("PUT", `/v1/me/blocklist/${s.handle}`, { token: rs[0].accessToken })).status).toBe(204);
    const inbox = await api("GET", "/v1/inbox", { token: rs[1].accessToken });
    const mid = inbox.body.messages[0].messageId;
    expect((await api("POST", `/v1/inbox/${mid}/report`, { token: rs[1].accessToken })).status).toBe(204);
    expect((await api("POST", `/v1/inbox/${mid}/report`, { token: rs[1].accessToken })).status).toBe(204);
    let rep: Reputation | null = null;
    for (let i = 0; i < 50 && rep?.complaints !== 2; i++) {
      rep = (await api("GET", `/v1/ops/accounts/${s.user.id}`, { token: env.ADMIN_TOKEN })).body.reputation;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(rep).toMatchObject({ complaints: 2, firstContacts: 5 }); // 4000 bps
    const before = await totals(s);
    await expectRefused(
      await sendWith({ ABUSE_COMPLAINT_BPS: "1000,3000" }, s, rs[5]),
      s,
      before,
      403,
      "complaint_share",
    );
    expect((await sendWith({ ABUSE_COMPLAINT_BPS: "3000,5000" }, s, rs[5])).status).toBe(201); // slowed: one through
    await settled(s);
    const [r7] = await recipients(1, "ab_cr7");
    await expectRefused(
      await sendWith({ ABUSE_COMPLAINT_BPS: "3000,5000" }, s, r7),
      s,
      await totals(s),
      429,
      "complaint_share",
    );
  });

  it("failed payments", async () => {
    const L = { ABUSE_FAILED_PAYMENTS_PER_DAY: "2,3" };
    const s = await funded("0", "ab_f");
    const [r0, r1] = await recipients(2, "ab_fr");
    for (let i = 0; i < 2; i++) expect((await sendWith(L, s, r0)).status).toBe(402);
    expect(
      (await api("POST", "/v1/payments/topup", { token: s.accessToken, body: { amount: "50000000" } })).status,
    ).toBe(200);
    expect((await sendWith(L, s, r0)).status).toBe(201); // slowed: one through
    await settled(s);
    await expectRefused(await sendWith(L, s, r1), s, await totals(s), 429, "failed_payments");
    await patchReputation(s, { failedPayments: 3 });
    await expectRefused(await sendWith(L, s, r1), s, await totals(s), 403, "failed_payments");
  });

  async function signUpFrom(headers: Record<string, string>): Promise<User> {
    const account = privateKeyToAccount(generatePrivateKey());
    const ch = await api("POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
    const signature = await account.signMessage({ message: ch.body.message });
    const v = await api("POST", "/v1/auth/siwe/verify", { body: { message: ch.body.message, signature }, headers });
    expect(v.status).toBe(200);
    const handle = `ab_ip_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const p = await api("PUT", "/v1/me/profile", { token: v.body.accessToken, body: { handle } });
    expect(p.status).toBe(200);
    await api("POST", "/v1/payments/topup", { token: v.body.accessToken, body: { amount: "10000000" } });
    return { account, ...v.body, handle, user: p.body.user };
  }

  it("sign-ups per IP and per device fingerprint", async () => {
    const ip = uniqueIp();
    const [r0, r1] = await recipients(2, "ab_ipr");
    const first = await signUpFrom({ "cf-connecting-ip": ip });
    const second = await signUpFrom({ "cf-connecting-ip": ip });
    const third = await signUpFrom({ "cf-connecting-ip": ip });
    const L = { ABUSE_SIGNUPS_PER_IP: "2,3" };
    expect((await sendWith(L, first, r0)).status).toBe(201);
    expect((await sendWith(L, second, r0)).status).toBe(201); // slowed: one through
    await settled(second);
    await expectRefused(await sendWith(L, second, r1), second, await totals(second), 429, "signups_per_ip");
    await expectRefused(await sendWith(L, third, r0), third, await totals(third), 403, "signups_per_ip");

    const device = `fp-${crypto.randomUUID()}`;
    const d1 = await signUpFrom({ "cf-connecting-ip": uniqueIp(), "x-device-fingerprint": device });
    await signUpFrom({ "cf-connecting-ip": uniqueIp(), "x-device-fingerprint": device });
    const d3 = await signUpFrom({ "cf-connecting-ip": uniqueIp(), "x-device-fingerprint": device });
    const D = { ABUSE_SIGNUPS_PER_DEVICE: "2,3" };
    expect((await sendWith(D, d1, r0)).status).toBe(201);
    await expectRefused(await sendWith(D, d3, r0), d3, await totals(d3), 403, "signups_per_device");
  });
});

describe("report as spam", () => {
  it("blocks the sender, records the report in the recipient's audit chain, 404 for others' messages", async () => {
    const s = await funded("10000000", "rp_s");
    const r = await funded("0", "rp_r");
    expect((await sendWith({}, s, r, "buy my stuff")).status).toBe(201);
    const mid = (await api("GET", "/v1/inbox", { token: r.accessToken })).body.messages[0].messageId;
    expect((await api("POST", `/v1/inbox/${mid}/report`, { token: s.accessToken })).status).toBe(404);
    expect((await api("POST", `/v1/inbox/${mid}/report`, { token: r.accessToken })).status).toBe(204);
    const again = await sendWith({}, s, r, "hello?");
    expect(again.status).toBe(403);
    expect(again.body.error).toBe("sender_blocked");
    const chain = (await api("GET", `/v1/ops/audit?account=${r.user.id}`, { token: env.ADMIN_TOKEN })).body.account;
    expect(chain.entries.map((e: { kind: string }) => e.kind)).toEqual(expect.arrayContaining(["report", "block"]));
    expect(chain.verified).toBe(true);
  });
});

describe("admin freeze", () => {
  it("refuses sends and withdrawals, keeps reads, and unfreezes", async () => {
    const s = await funded("10000000", "fz_s");
    const r = await funded("0", "fz_r");
    expect((await sendWith({}, s, r)).status).toBe(201);
    await settled(s);
    const f = await api("POST", `/v1/ops/accounts/${s.user.id}/freeze`, {
      token: env.ADMIN_TOKEN,
      body: { reason: "investigation 42" },
    });
    expect(f.status).toBe(200);
    expect(f.body).toMatchObject({ frozen: true, reason: "investigation 42" });
    const before = await totals(s);
    const sent = await sendWith({}, s, r, "while frozen");
    expect(sent.status).toBe(403);
    expect(sent.body.error).toBe("account_frozen");
    const wd = await api("POST", "/v1/payments/withdraw", { token: s.accessToken, body: { amount: "1" } });
    expect(wd.status).toBe(403);
    expect(wd.body.error).toBe("account_frozen");
    expect(await totals(s)).toMatchObject({ balance: before.balance, held: before.held });
    // Reads keep working: profile, inbox, outbox, ledger; and others can still write to them.
    for (const path of ["/v1/me", "/v1/inbox", "/v1/outbox", "/v1/payments/ledger"]) {
      expect((await api("GET", path, { token: s.accessToken })).status, path).toBe(200);
    }
    expect((await sendWith({}, r, s, "to a frozen account")).status).toBe(402); // r has no money: not refused for freezing
    const u = await api("POST", `/v1/ops/accounts/${s.user.id}/unfreeze`, {
      token: env.ADMIN_TOKEN,
      body: { reason: "cleared" },
    });
    expect(u.body).toMatchObject({ frozen: false, reason: null });
    expect((await sendWith({}, s, r, "after")).status).toBe(201);
    const kinds = (
      await api("GET", `/v1/ops/audit?account=${s.user.id}`, { token: env.ADMIN_TOKEN })
    ).body.account.entries.map((e: { kind: string; ref: string }) => `${e.kind}:${e.ref}`);
    expect(kinds).toEqual(expect.arrayContaining(["freeze:investigation 42", "unfreeze:cleared"]));
    expect(
      (await api("POST", "/v1/ops/accounts/u_nobody/freeze", { token: env.ADMIN_TOKEN, body: { reason: "x" } })).status,
    ).toBe(404);
  });
});
