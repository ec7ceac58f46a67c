// Channels API and provider webhooks: consent, connect flows per rail, settings,
// credentials sealed at rest, and every /webhooks/* refusing bad signatures or
// verify tokens with 401 while changing nothing.
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CONSENT_VERSION } from "../worker/notify/consent";
import { base64, hex, hmacSha256 } from "../worker/notify/signatures";
import { checkWebhookUrl } from "../worker/notify/webhook-url";
import { FAKE } from "./fakes/credentials";
import { api, ORIGIN } from "./helpers";
import { uniqueEmail, uniquePhone, verifyTarget } from "./identity-helpers";
import { connect, connectTelegram, connectWebhook, telegramUpdate, unique, uniqueChatId } from "./rails-helpers";
import { funded } from "./send-helpers";

async function channelRow(userId: string, channel: string) {
  return env.DB.prepare("SELECT * FROM channels WHERE user_id = ? AND channel = ?")
    .bind(userId, channel)
    .first<Record<string, unknown>>();
}

async function tableDump(): Promise<string> {
  let out = "";
  for (const t of ["channels", "deliveries", "delivery_attempts", "dead_letters", "auth_challenges"]) {
    out += JSON.stringify((await env.DB.prepare(`SELECT * FROM ${t}`).all()).results);
  }
  return out;
}

describe("consent", () => {
  it("lists the current consent version and text, and the rails offered", async () => {
    const u = await funded("0", "ch");
    const r = await api("GET", "/v1/channels", { token: u.accessToken });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ channels: [], consentVersion: CONSENT_VERSION });
    expect(r.body.consentText).toContain("encrypted");
    expect(r.body.available).toEqual(["telegram", "whatsapp", "x", "webhook", "email"]);
  });

  it("refuses connect without consent or with a stale version, and records the version and time", async () => {
    const u = await funded("0", "ch");
    const url = `${env.FAKE_PROVIDER_URL}/hooks/${unique("c")}`;
    for (const body of [{ url }, { url, consentVersion: "2020-01-01" }]) {
      const r = await api("POST", "/v1/channels/webhook/connect", { token: u.accessToken, body });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: "consent_required", consentVersion: CONSENT_VERSION });
    }
    expect(await channelRow(u.user.id, "webhook")).toBeNull();
    const before = Date.now();
    const ok = await connect(u, "webhook", { url });
    expect(ok.status).toBe(200);
    const row = await channelRow(u.user.id, "webhook");
    expect(row).toMatchObject({ consent_version: CONSENT_VERSION, status: "connected" });
    expect(row!.consent_at as number).toBeGreaterThanOrEqual(before - 1000);
  });

  it("rejects unknown channels and needs a token", async () => {
    const u = await funded("0", "ch");
    expect((await connect(u, "pigeon")).status).toBe(400);
    expect((await api("GET", "/v1/channels")).status).toBe(401);
  });
});

describe("webhook channel", () => {
  it("shows a whsec_ secret once, stores URL and secret only sealed, and lists the channel in /v1/me", async () => {
    const u = await funded("0", "ch");
    const name = unique("sealed");
    const { secret } = await connectWebhook(u, name);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const list = await api("GET", "/v1/channels", { token: u.accessToken });
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(list.body.channels[0]).toMatchObject({
      channel: "webhook",
      status: "connected",
      includeBody: false,
      minPrice: "0",
      health: { lastDeliveredAt: null, lastError: null },
    });
    const me = await api("GET", "/v1/me", { token: u.accessToken });
    expect(me.body.channels).toEqual(list.body.channels);
    const dump = await tableDump();
    expect(dump).not.toContain(secret.slice(6));
    expect(dump).not.toContain(name);
  });

  it("PATCH sets includeBody and minPrice; DELETE removes credentials", async () => {
    const u = await funded("0", "ch");
    await connectWebhook(u);
    const p = await api("PATCH", "/v1/channels/webhook", {
      token: u.accessToken,
      body: { includeBody: true, minPrice: "2500000" },
    });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ channel: "webhook", includeBody: true, minPrice: "2500000" });
    const bad = await api("PATCH", "/v1/channels/webhook", { token: u.accessToken, body: { minPrice: "-1" } });
    expect(bad.status).toBe(400);
    expect(
      (await api("PATCH", "/v1/channels/telegram", { token: u.accessToken, body: { includeBody: true } })).status,
    ).toBe(404);
    expect((await api("DELETE", "/v1/channels/webhook", { token: u.accessToken })).status).toBe(204);
    expect(await channelRow(u.user.id, "webhook")).toBeNull();
    expect((await api("GET", "/v1/channels", { token: u.accessToken })).body.channels).toEqual([]);
  });

  it("refuses URLs that are not http(s) loopback in development", async () => {
    const u = await funded("0", "ch");
    for (const url of ["ftp://127.0.0.1/x", "http://10.0.0.1/hook", "http://user:pw@127.0.0.1/x", "not a url"]) {
      const r = await connect(u, "webhook", { url });
      expect(r.status, url).toBe(400);
      expect(r.body.error).toBe("invalid_webhook_url");
    }
  });

  it("production URL rules: https, public host, port 443, no credentials, no special-range IP literals", () => {
    const prod = { development: false, extraPorts: new Set<string>() };
    const ok = ["https://hooks.example.com/paid", "https://93.184.216.34/x", "https://[2606:4700::1111]/x"];
    for (const u of ok) expect(checkWebhookUrl(u, prod).ok, u).toBe(true);
    const refused = [
      "http://hooks.example.com/x",
      "https://hooks.example.com:8443/x",
      "https://user:pass@hooks.example.com/x",
      "https://127.0.0.1/x",
      "https://2130706433/x", // 127.0.0.1 in decimal
      "https://0x7f.1/x",
      "https://10.1.2.3/x",
      "https://172.20.0.1/x",
      "https://192.168.1.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/x",
      "https://0.0.0.0/x",
      "https://[::1]/x",
      "https://[fe80::1]/x",
      "https://[fd00:ec2::254]/x",
      "https://[::ffff:127.0.0.1]/x",
      "https://[::ffff:a9fe:a9fe]/x",
      "https://localhost/x",
      "https://metadata.google.internal/x",
      "https://intranet/x",
      "http://127.0.0.1:8080/x",
    ];
    for (const u of refused) expect(checkWebhookUrl(u, prod).ok, u).toBe(false);
    expect(checkWebhookUrl("https://hooks.example.com:8443/x", { ...prod, extraPorts: new Set(["8443"]) }).ok).toBe(
      true,
    );
    const dev = { development: true, extraPorts: new Set<string>() };
    expect(checkWebhookUrl("http://127.0.0.1:9999/x", dev).ok).toBe(true);
    expect(checkWebhookUrl("http://localhost:3000/x", dev).ok).toBe(true);
    expect(checkWebhookUrl("http://10.0.0.1/x", dev).ok).toBe(false);
  });
});

describe("telegram", () => {
  it("connect answers a t.me deep link; /start <token> binds the chat once; /stop revokes it", async () => {
    const u = await funded("0", "tg");
    const r = await connect(u, "telegram");
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("pending");
    const link = new URL(r.body.connectUrl);
    expect(`${link.origin}${link.pathname}`).toBe(`https://t.me/${FAKE.telegram.botUsername}`);
    const token = link.searchParams.get("start")!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const pending = await channelRow(u.user.id, "telegram");
    expect(pending).toMatchObject({ status: "pending", ciphertext: null });
    expect(JSON.stringify(pending)).not.toContain(token);

    const chatId = uniqueChatId();
    expect((await telegramUpdate({ message: { chat: { id: Number(chatId) }, text: `/start ${token}` } })).status).toBe(
      200,
    );
    const row = await channelRow(u.user.id, "telegram");
    expect(row).toMatchObject({ status: "connected", connect_token_hash: null });
    expect(JSON.stringify(row)).not.toContain(chatId);
    // The token is single use: another chat presenting it binds nothing.
    const other = uniqueChatId();
    await telegramUpdate({ message: { chat: { id: Number(other) }, text: `/start ${token}` } });
    expect((await channelRow(u.user.id, "telegram"))!.subject_index).toBe(row!.subject_index);

    expect((await telegramUpdate({ message: { chat: { id: Number(chatId) }, text: "/stop" } })).status).toBe(200);
    expect(await channelRow(u.user.id, "telegram")).toMatchObject({ status: "revoked", ciphertext: null });
  });

  it("a bad or missing secret token is 401 and binds nothing", async () => {
    const u = await funded("0", "tg");
    const r = await connect(u, "telegram");
    const token = new URL(r.body.connectUrl).searchParams.get("start")!;
    const update = { message: { chat: { id: 42 }, text: `/start ${token}` } };
    expect((await telegramUpdate(update, "wrong-secret-0123456789")).status).toBe(401);
    const missing = await api("POST", "/webhooks/telegram", { body: update });
    expect(missing.status).toBe(401);
    expect(await channelRow(u.user.id, "telegram")).toMatchObject({ status: "pending" });
  });
});

describe("whatsapp", () => {
  it("connect needs a verified phone", async () => {
    const u = await funded("0", "wa");
    const r = await connect(u, "whatsapp");
    expect(r.status).toBe(409);
    expect(r.body.error).toBe("phone_not_verified");
    const phone = uniquePhone();
    await verifyTarget(u.accessToken, "phone", phone);
    const ok = await connect(u, "whatsapp");
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe("connected");
    expect(JSON.stringify(await channelRow(u.user.id, "whatsapp"))).not.toContain(phone.slice(1));
  });

  it("GET answers hub.challenge only with the right verify token", async () => {
    const q = (token: string) =>
      `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=1158201444`;
    const good = await exports.default.fetch(new Request(`${ORIGIN}${q(FAKE.whatsapp.verifyToken)}`));
    expect(good.status).toBe(200);
    expect(await good.text()).toBe("1158201444");
    const bad = await api("GET", q("nope"));
    expect(bad.status).toBe(401);
    expect(JSON.stringify(bad.body)).not.toContain("1158201444");
  });

  it("POST with a bad signature is 401 and updates nothing; a signed status callback updates the attempt", async () => {
    const wamid = `wamid.${unique("t")}`;
    await env.DB.prepare(
      `INSERT INTO delivery_attempts (key, channel, user_id, attempt, outcome, provider_code, provider_message_id, latency_ms, created_at)
       VALUES ('k', 'whatsapp', 'u_x', 1, 'delivered', 200, ?, 5, ?)`,
    )
      .bind(wamid, Date.now())
      .run();
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{ changes: [{ value: { statuses: [{ id: wamid, status: "read" }] } }] }],
    });
    const status = () =>
      env.DB.prepare("SELECT provider_status FROM delivery_attempts WHERE provider_message_id = ?").bind(wamid).first();
    for (const sig of [undefined, "sha256=00", `sha256=${hex(await hmacSha256("wrong-secret", body))}`]) {
      const r = await api("POST", "/webhooks/whatsapp", {
        raw: body,
        headers: { "content-type": "application/json", ...(sig ? { "x-hub-signature-256": sig } : {}) },
      });
      expect(r.status).toBe(401);
      expect(await status()).toEqual({ provider_status: null });
    }
    const good = await api("POST", "/webhooks/whatsapp", {
      raw: body,
      headers: {
        "content-type": "application/json",
        "x-hub-signature-256": `sha256=${hex(await hmacSha256(FAKE.whatsapp.appSecret, body))}`,
      },
    });
    expect(good.status).toBe(200);
    expect(await status()).toEqual({ provider_status: "read" });
  });
});

describe("x", () => {
  it("links the X account with OAuth 2.0 + PKCE and keeps only the sealed X user id", async () => {
    const u = await funded("0", "xx");
    const r = await connect(u, "x");
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("pending");
    const authorize = new URL(r.body.connectUrl);
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    const xId = String(1_500_000_000 + Math.floor(Math.random() * 1e6));
    authorize.searchParams.set("fake_sub", xId);
    const back = await fetch(authorize, { redirect: "manual" });
    const callback = new URL(back.headers.get("location")!);
    const done = await api("GET", callback.pathname + callback.search, { headers: { accept: "application/json" } });
    expect(done.status).toBe(200);
    expect(done.body.channel).toMatchObject({ channel: "x", status: "connected" });
    expect(JSON.stringify(await channelRow(u.user.id, "x"))).not.toContain(xId);
    // The state is single use.
    const again = await api("GET", callback.pathname + callback.search, { headers: { accept: "application/json" } });
    expect(again.status).toBe(401);
  });

  it("a browser finishing the link needs the state cookie set at connect; then it is sent back to settings", async () => {
    const u = await funded("0", "xb");
    const res = await exports.default.fetch(
      new Request(`${ORIGIN}/v1/channels/x/connect`, {
        method: "POST",
        headers: { authorization: `Bearer ${u.accessToken}`, "content-type": "application/json" },
        body: JSON.stringify({ consentVersion: CONSENT_VERSION }),
      }),
    );
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
    const { connectUrl } = (await res.json()) as { connectUrl: string };
    expect(cookie).toBe(`pi_x_link_state=${new URL(connectUrl).searchParams.get("state")}`);
    const callback = new URL((await fetch(connectUrl, { redirect: "manual" })).headers.get("location")!);
    const path = callback.pathname + callback.search;
    // Another browser (no cookie) cannot finish it, and the state is not spent by trying.
    expect((await api("GET", path)).status).toBe(401);
    const ok = await exports.default.fetch(new Request(`${ORIGIN}${path}`, { headers: { cookie } }), {
      redirect: "manual",
    } as RequestInit);
    expect(ok.status).toBe(302);
    expect(ok.headers.get("location")).toBe(`${ORIGIN}/settings?connected=x`);
    expect(await channelRow(u.user.id, "x")).toMatchObject({ status: "connected" });
  });

  it("answers the CRC challenge with sha256=<base64 HMAC>", async () => {
    const r = await api("GET", "/webhooks/x?crc_token=challenge-123");
    expect(r.status).toBe(200);
    expect(r.body.response_token).toBe(`sha256=${base64(await hmacSha256(FAKE.x.consumerSecret, "challenge-123"))}`);
  });

  it("the unsigned CRC GET is no signing oracle: a forged event as crc_token is refused, and nothing is revoked", async () => {
    const u = await funded("0", "xo");
    const r = await connect(u, "x");
    const authorize = new URL(r.body.connectUrl);
    const xId = String(1_700_000_000 + Math.floor(Math.random() * 1e6));
    authorize.searchParams.set("fake_sub", xId);
    const callback = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!);
    await api("GET", callback.pathname + callback.search, { headers: { accept: "application/json" } });
    const forged = JSON.stringify({ user_event: { revoke: { source: { user_id: xId } } } });
    const crc = await api("GET", `/webhooks/x?crc_token=${encodeURIComponent(forged)}`);
    expect(crc.status).toBe(400);
    expect(crc.body.response_token).toBeUndefined();
    // (Had it answered, the answer would be the POST signature of the forged event; see the test below.)
    const post = await api("POST", "/webhooks/x", {
      raw: forged,
      headers: { "content-type": "application/json", "x-twitter-webhooks-signature": crc.body.response_token ?? "" },
    });
    expect(post.status).toBe(401);
    expect(await channelRow(u.user.id, "x")).toMatchObject({ status: "connected" });
    // X's real tokens (base64) are still answered.
    expect((await api("GET", "/webhooks/x?crc_token=Zm9vYmFy%2Bx%2F%3D")).status).toBe(200);
  });

  it("POST with a bad signature is 401 and revokes nothing; a signed revoke event revokes the channel", async () => {
    const u = await funded("0", "xx");
    const r = await connect(u, "x");
    const authorize = new URL(r.body.connectUrl);
    const xId = String(1_600_000_000 + Math.floor(Math.random() * 1e6));
    authorize.searchParams.set("fake_sub", xId);
    const callback = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!);
    await api("GET", callback.pathname + callback.search, { headers: { accept: "application/json" } });
    const body = JSON.stringify({ for_user_id: "1", user_event: { revoke: { source: { user_id: xId } } } });
    for (const sig of [undefined, `sha256=${base64(await hmacSha256("wrong", body))}`]) {
      const bad = await api("POST", "/webhooks/x", {
        raw: body,
        headers: { "content-type": "application/json", ...(sig ? { "x-twitter-webhooks-signature": sig } : {}) },
      });
      expect(bad.status).toBe(401);
      expect(await channelRow(u.user.id, "x")).toMatchObject({ status: "connected" });
    }
    const ok = await api("POST", "/webhooks/x", {
      raw: body,
      headers: {
        "content-type": "application/json",
        "x-twitter-webhooks-signature": `sha256=${base64(await hmacSha256(FAKE.x.consumerSecret, body))}`,
      },
    });
    expect(ok.status).toBe(200);
    expect(await channelRow(u.user.id, "x")).toMatchObject({ status: "revoked", ciphertext: null });
  });
});

describe("email", () => {
  it("connect needs a verified email", async () => {
    const u = await funded("0", "em");
    expect((await connect(u, "email")).body.error).toBe("email_not_verified");
    await verifyTarget(u.accessToken, "email", uniqueEmail("notify"));
    expect((await connect(u, "email")).body.status).toBe("connected");
  });
});

describe("test notifications", () => {
  it("POST /test answers 202 for a connected channel, 404 for none, 409 for a pending one", async () => {
    const u = await funded("0", "ts");
    expect((await api("POST", "/v1/channels/webhook/test", { token: u.accessToken })).status).toBe(404);
    await connect(u, "telegram");
    const pending = await api("POST", "/v1/channels/telegram/test", { token: u.accessToken });
    expect(pending.status).toBe(409);
    await connectTelegram(u);
    expect((await api("POST", "/v1/channels/telegram/test", { token: u.accessToken })).status).toBe(202);
  });
});

describe("retention", () => {
  it("the cron purges delivery attempts, delivery keys and dead letters older than NOTIFY_RETENTION_DAYS", async () => {
    const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import(
      "cloudflare:test"
    );
    const worker = (await import("../worker/index")).default;
    const old = Date.now() - 8 * 86_400_000;
    const fresh = Date.now() - 86_400_000;
    const key = unique("ret");
    for (const [k, at] of [
      [`${key}-old`, old],
      [`${key}-new`, fresh],
    ] as const) {
      await env.DB.batch([
        env.DB.prepare(
          `INSERT INTO delivery_attempts (key, channel, user_id, attempt, outcome, provider_code, latency_ms, created_at)
           VALUES (?, 'webhook', 'u_r', 1, 'delivered', 200, 3, ?)`,
        ).bind(k, at),
        env.DB.prepare(
          `INSERT INTO deliveries (key, channel, user_id, state, attempts, claimed_at, created_at, updated_at)
           VALUES (?, 'webhook', 'u_r', 'delivered', 1, ?, ?, ?)`,
        ).bind(k, at, at, at),
        env.DB.prepare(
          "INSERT INTO dead_letters (key, channel, user_id, job, created_at) VALUES (?, 'webhook', 'u_r', '{}', ?)",
        ).bind(k, at),
      ]);
    }
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    for (const t of ["delivery_attempts", "deliveries", "dead_letters"]) {
      const { results } = await env.DB.prepare(`SELECT key FROM ${t} WHERE key LIKE ?`).bind(`${key}%`).all();
      expect(
        results.map((r) => r.key),
        t,
      ).toEqual([`${key}-new`]);
    }
  });
});
