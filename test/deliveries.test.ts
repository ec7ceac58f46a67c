// Notification delivery end to end through the real queues in workerd and real
// HTTP to the fake providers (test/fakes/rails-fakes.mjs): the recipient's
// Account hands new messages to the `deliveries` queue with its batched flush,
// the consumer fans out per channel, retries with backoff, honours 429
// retry-after, gives up on permanent 4xx, dead-letters after max_retries, and a
// redrive delivers once. (vitest.config.ts: backoff 1–2 s, max_retries 2.)
import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import type { Account } from "../durable-objects/account";
import type { DeliveryJob } from "../worker/domain/delivery-job";
import { consumeDeliveries, consumerGate } from "../worker/notify/consumer";
import { FAKE } from "./fakes/credentials";
import { api } from "./helpers";
import { uniqueEmail, uniquePhone, verifyTarget } from "./identity-helpers";
import {
  about,
  connect,
  connectTelegram,
  connectWebhook,
  type RailRequest,
  railRequests,
  script,
  sleep,
  unique,
  waitFor,
} from "./rails-helpers";
import { funded, send, type User } from "./send-helpers";

// Every notice crosses two queues (index, then deliveries) and retries wait for real backoff:
// generous caps, so a loaded machine (the whole suite in parallel on 2 cores) slows, not fails, these.
vi.setConfig({ testTimeout: 90_000 });

async function pair(prefix: string): Promise<{ sender: User; recipient: User }> {
  const [sender, recipient] = await Promise.all([funded("100000000", `${prefix}s`), funded("0", `${prefix}r`)]);
  return { sender, recipient };
}

async function sendOk(from: User, to: User, body = unique("hello")) {
  const r = await send(from, to, body);
  expect(r.status).toBe(201);
  return { messageId: r.body.messageId as string, body };
}

/** Sets the recipient's coalescing window (test knob); `wake` re-arms its alarm for the new close. */
async function notifyWindow(u: User, ms: number, wake = false) {
  await runInDurableObject(env.ACCOUNT.getByName(u.user.id), async (a: Account) => {
    a.notifyWindowOverrideMs = ms;
    // A flush with nothing new due sets the alarm to when the oldest waiting notice is due.
    if (wake) await a.flush();
  });
}

const delivered = (reqs: RailRequest[]) => reqs.filter((r) => r.status >= 200 && r.status < 300);

async function attempts(userId: string, channel: string) {
  const { results } = await env.DB.prepare(
    "SELECT attempt, outcome, provider_code, latency_ms FROM delivery_attempts WHERE user_id = ? AND channel = ? ORDER BY id",
  )
    .bind(userId, channel)
    .all<{ attempt: number; outcome: string; provider_code: number; latency_ms: number }>();
  return results;
}

async function channelOf(u: User, channel: string) {
  const r = await api("GET", "/v1/channels", { token: u.accessToken });
  return r.body.channels.find((c: { channel: string }) => c.channel === channel);
}

describe("each rail delivers", () => {
  it("webhook: a signed message.received event without the body", async () => {
    const { sender, recipient } = await pair("wh");
    const hook = await connectWebhook(recipient);
    const m = await sendOk(sender, recipient);
    const [req] = await waitFor(
      () => railRequests(hook.key),
      (r) => r.length > 0,
    );
    expect(req).toBeDefined();
    const event = new Webhook(hook.secret).verify(req.body, req.headers) as Record<string, unknown>;
    expect(event).toMatchObject({
      type: "message.received",
      messageId: m.messageId,
      from: { id: sender.user.id, handle: sender.handle },
      price: "1000000",
      status: "delivered",
    });
    expect(event.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(event).not.toHaveProperty("body");
    expect(req.body).not.toContain(m.body);
    const ch = await waitFor(
      () => channelOf(recipient, "webhook"),
      (c) => c.health.lastDeliveredAt !== null,
    );
    expect(ch.health.lastDeliveredAt).not.toBeNull();
    const log = await attempts(recipient.user.id, "webhook");
    expect(log).toEqual([{ attempt: 1, outcome: "delivered", provider_code: 200, latency_ms: expect.any(Number) }]);
  });

  it("telegram: sendMessage to the bound chat", async () => {
    const { sender, recipient } = await pair("tg");
    const tg = await connectTelegram(recipient);
    await sendOk(sender, recipient);
    const reqs = await waitFor(
      async () => about(await railRequests(tg.key), "on Paid Inbox"),
      (r) => r.length > 0,
    );
    expect(reqs).toHaveLength(1);
    const body = JSON.parse(reqs[0].body);
    expect(body.chat_id).toBe(tg.chatId);
    expect(body.text).toContain(`@${sender.handle}`);
    expect(body.text).toContain("1.00 USDC");
  });

  it("whatsapp: an approved template to the verified phone, with the message id kept for status callbacks", async () => {
    const { sender, recipient } = await pair("wa");
    const phone = uniquePhone();
    await verifyTarget(recipient.accessToken, "phone", phone);
    expect((await connect(recipient, "whatsapp")).status).toBe(200);
    await sendOk(sender, recipient);
    const key = `wa:${phone.slice(1)}`;
    const [req] = await waitFor(
      () => railRequests(key),
      (r) => r.length > 0,
    );
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      messaging_product: "whatsapp",
      type: "template",
      template: { name: "paid_message_received" },
    });
    expect(body.template.components[0].parameters[0].text).toContain(`@${sender.handle}`);
    const row = await waitFor(
      () =>
        env.DB.prepare("SELECT provider_message_id FROM delivery_attempts WHERE user_id = ? AND channel = 'whatsapp'")
          .bind(recipient.user.id)
          .first<{ provider_message_id: string }>(),
      (r) => r !== null,
    );
    expect(row!.provider_message_id).toMatch(/^wamid\./);
  });

  it("whatsapp: nothing goes to a number once it is verified by someone else", async () => {
    const { sender, recipient } = await pair("wm");
    const phone = uniquePhone();
    await verifyTarget(recipient.accessToken, "phone", phone);
    expect((await connect(recipient, "whatsapp")).status).toBe(200);
    const newOwner = await funded("0", "wn");
    await verifyTarget(newOwner.accessToken, "phone", phone);
    await sendOk(sender, recipient);
    const ch = await waitFor(
      () => channelOf(recipient, "whatsapp"),
      (c) => c.health.lastError !== null,
    );
    expect(ch.health.lastError).toBe("phone_changed");
    expect(await railRequests(`wa:${phone.slice(1)}`)).toHaveLength(0);
  });

  it("x: a DM from the app's account to the linked user", async () => {
    const { sender, recipient } = await pair("xx");
    const r = await connect(recipient, "x");
    const authorize = new URL(r.body.connectUrl);
    const xId = String(1_700_000_000 + Math.floor(Math.random() * 1e6));
    authorize.searchParams.set("fake_sub", xId);
    const cb = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!);
    expect((await api("GET", cb.pathname + cb.search, { headers: { accept: "application/json" } })).status).toBe(200);
    await sendOk(sender, recipient);
    const [req] = await waitFor(
      () => railRequests(`x:${xId}`),
      (x) => x.length > 0,
    );
    expect(JSON.parse(req.body).text).toContain(`@${sender.handle}`);
  });

  it("email: to the verified address through the email provider (dev outbox)", async () => {
    const { sender, recipient } = await pair("em");
    const email = uniqueEmail("notify");
    await verifyTarget(recipient.accessToken, "email", email);
    expect((await connect(recipient, "email")).status).toBe(200);
    await sendOk(sender, recipient);
    const items = await waitFor(
      async () =>
        ((await api("GET", `/v1/dev/outbox?to=${encodeURIComponent(email)}`)).body.items as { text: string }[]).filter(
          (i) => i.text.includes("paid message"),
        ),
      (i) => i.length > 0,
    );
    expect(items[0].text).toContain(`@${sender.handle}`);
  });
});

describe("what a notice carries", () => {
  it("includeBody false: the body is nowhere in the request; true: it is there", async () => {
    const { sender, recipient } = await pair("ib");
    const hook = await connectWebhook(recipient);
    const tg = await connectTelegram(recipient);
    const first = await sendOk(sender, recipient, unique("private-words"));
    const reqs = await waitFor(
      async () => [...(await railRequests(hook.key)), ...about(await railRequests(tg.key), "on Paid Inbox")],
      (r) => r.length >= 2,
    );
    expect(reqs).toHaveLength(2);
    for (const r of reqs) {
      expect(r.body).not.toContain(first.body);
      expect(JSON.stringify(r.headers)).not.toContain(first.body);
      expect(r.path).not.toContain(first.body);
    }
    for (const ch of ["webhook", "telegram"]) {
      await api("PATCH", `/v1/channels/${ch}`, { token: recipient.accessToken, body: { includeBody: true } });
    }
    const second = await sendOk(sender, recipient, unique("shared-words"));
    const withBody = await waitFor(
      async () => [
        ...about(await railRequests(hook.key), second.body),
        ...about(await railRequests(tg.key), second.body),
      ],
      (r) => r.length >= 2,
    );
    expect(withBody).toHaveLength(2);
    expect(JSON.parse(withBody.find((r) => r.key === hook.key)!.body).body).toBe(second.body);

    // The notify records ride the recipient's flush batches, which are archived in R2 as-is: they
    // name the messages (that is how the consumer finds them) but carry no body and no rail target.
    const listed = await env.ARCHIVE.list({ prefix: `accounts/${recipient.user.id}/batches/` });
    const archived = await Promise.all(listed.objects.map(async (o) => (await env.ARCHIVE.get(o.key))!.text()));
    expect(archived.some((b) => b.includes(`"notify"`) && b.includes(second.messageId))).toBe(true);
    const rows = await env.DB.batch(
      ["delivery_attempts", "deliveries", "dead_letters"].map((t) =>
        env.DB.prepare(`SELECT * FROM ${t} WHERE user_id = ?`).bind(recipient.user.id),
      ),
    );
    expect(rows[0].results.length).toBeGreaterThanOrEqual(4);
    for (const text of [...archived, JSON.stringify(rows.map((r) => r.results))]) {
      for (const secret of [first.body, second.body, hook.key.slice("hook:".length), tg.chatId]) {
        expect(text).not.toContain(secret);
      }
    }
  });

  it("minPrice: messages below it send no notice on that channel", async () => {
    const { sender, recipient } = await pair("mp");
    const hook = await connectWebhook(recipient);
    await api("PATCH", "/v1/channels/webhook", { token: recipient.accessToken, body: { minPrice: "5000000" } });
    await sendOk(sender, recipient); // 1 USDC, below 5
    await sleep(5_000);
    expect(await railRequests(hook.key)).toHaveLength(0);
    await api("PATCH", "/v1/channels/webhook", { token: recipient.accessToken, body: { minPrice: "1000000" } });
    await sendOk(sender, recipient);
    expect(
      await waitFor(
        () => railRequests(hook.key),
        (r) => r.length > 0,
      ),
    ).toHaveLength(1);
  });

  it("a burst within the coalescing window (NOTIFY_COALESCE_SECONDS) becomes one digest per channel", async () => {
    // The test holds the clock of the window, so the burst is inside it however slowly a loaded
    // machine sends, and every assertion always runs: the window is held open (an hour) while the
    // four messages go out, spread over more than one index flush (1 s) so that only the window,
    // not the flush batching, can make them one notice; then it is set to close a second from now,
    // and the Account's alarm (not the test) sends the digest when it does.
    const { sender, recipient } = await pair("dg");
    const hook = await connectWebhook(recipient);
    const tg = await connectTelegram(recipient);
    await notifyWindow(recipient, 3_600_000);
    const start = Date.now();
    const sent = [await sendOk(sender, recipient)];
    await sleep(1_200);
    sent.push(...(await Promise.all([0, 1, 2].map(() => sendOk(sender, recipient)))));
    // Everything is in the index (no notice: the window is open); now the window ends in 1 s.
    await runInDurableObject(env.ACCOUNT.getByName(recipient.user.id), (a: Account) => a.flush());
    const closeAt = Date.now() + 1_000;
    await notifyWindow(recipient, closeAt - start, true);
    const hooks = await waitFor(
      () => railRequests(hook.key),
      (r) => r.length > 0,
    );
    // Not before the window closed: the first message waited for the rest.
    expect(hooks[0].at).toBeGreaterThanOrEqual(closeAt);
    await sleep(3_000);
    const all = await railRequests(hook.key);
    const tgs = about(await railRequests(tg.key), "on Paid Inbox");
    // One notice per channel, covering every message.
    expect(all).toHaveLength(1);
    expect(JSON.parse(all[0].body)).toMatchObject({ type: "messages.received", count: 4 });
    const covered = JSON.parse(all[0].body).messages.map((m: { messageId: string }) => m.messageId);
    expect(covered.sort()).toEqual(sent.map((m) => m.messageId).sort());
    expect(tgs).toHaveLength(1);
    expect(JSON.parse(tgs[0].body).text).toContain("4 new paid messages (4.00 USDC)");
  });

  it("messages after the window closed get their own notice (the window restarts)", async () => {
    const { sender, recipient } = await pair("dw");
    const hook = await connectWebhook(recipient);
    const first = await sendOk(sender, recipient);
    await waitFor(
      () => railRequests(hook.key),
      (r) => r.length > 0,
    );
    const second = await sendOk(sender, recipient);
    const all = await waitFor(
      () => railRequests(hook.key),
      (r) => r.length > 1,
    );
    expect(all.map((h) => JSON.parse(h.body).messageId)).toEqual([first.messageId, second.messageId]);
    expect(all[1].at - all[0].at).toBeGreaterThanOrEqual(1_900);
  });
});

describe("retries", () => {
  it("5xx → retry with backoff → success, each attempt logged", async () => {
    const { sender, recipient } = await pair("r5");
    const tg = await connectTelegram(recipient);
    await script(tg.key, [
      { status: 502, body: { ok: false } },
      { status: 500, body: { ok: false } },
    ]);
    await sendOk(sender, recipient);
    const reqs = await waitFor(
      async () => about(await railRequests(tg.key), "on Paid Inbox"),
      (r) => r.some((x) => x.status === 200),
    );
    expect(reqs.map((r) => r.status)).toEqual([502, 500, 200]);
    expect(reqs[1].at - reqs[0].at).toBeGreaterThanOrEqual(900);
    const log = await waitFor(
      () => attempts(recipient.user.id, "telegram"),
      (l) => l.length === 3,
    );
    expect(log.map((a) => [a.attempt, a.outcome, a.provider_code])).toEqual([
      [1, "retry", 502],
      [2, "retry", 500],
      [3, "delivered", 200],
    ]);
    await sleep(2_500);
    expect(about(await railRequests(tg.key), "on Paid Inbox")).toHaveLength(3);
  });

  it("a permanent 4xx is not retried", async () => {
    const { sender, recipient } = await pair("r4");
    const hook = await connectWebhook(recipient);
    await script(hook.key, [], { status: 400, body: "nope" });
    await sendOk(sender, recipient);
    await waitFor(
      () => railRequests(hook.key),
      (r) => r.length > 0,
    );
    await sleep(4_000);
    expect(await railRequests(hook.key)).toHaveLength(1);
    expect((await attempts(recipient.user.id, "webhook")).map((a) => a.outcome)).toEqual(["failed"]);
    const ch = await channelOf(recipient, "webhook");
    expect(ch.health.lastError).toBe("http_400");
    expect(ch.status).toBe("connected");
  });

  it("a redirect is not followed (a permanent failure)", async () => {
    const { sender, recipient } = await pair("rd");
    const hook = await connectWebhook(recipient);
    const target = unique("redirect-target");
    await script(hook.key, [], { status: 307, headers: { location: `${env.FAKE_PROVIDER_URL}/hooks/${target}` } });
    await sendOk(sender, recipient);
    await waitFor(
      () => railRequests(hook.key),
      (r) => r.length > 0,
    );
    await sleep(3_000);
    expect(await railRequests(hook.key)).toHaveLength(1);
    expect(await railRequests(`hook:${target}`)).toHaveLength(0);
    expect((await channelOf(recipient, "webhook")).health.lastError).toBe("redirect_refused");
  });

  it("no target, secret, token or body in the logs while delivering and failing", async () => {
    const captured: string[] = [];
    for (const m of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
        captured.push(args.map(String).join(" "));
      });
    }
    try {
      const { sender, recipient } = await pair("lg");
      const hook = await connectWebhook(recipient);
      const tg = await connectTelegram(recipient);
      await api("PATCH", "/v1/channels/telegram", { token: recipient.accessToken, body: { includeBody: true } });
      await script(tg.key, [{ status: 500 }]);
      await script(hook.key, [{ status: 503 }]);
      const m = await sendOk(sender, recipient, unique("log-private"));
      await waitFor(
        async () => [
          ...delivered(await railRequests(hook.key)),
          ...about(delivered(await railRequests(tg.key)), m.body),
        ],
        (r) => r.length >= 2,
      );
      const text = captured.join("\n");
      expect(text).toContain("deliveries:");
      for (const secret of [
        m.body,
        tg.chatId,
        hook.secret,
        hook.key.slice(5),
        FAKE.telegram.token,
        FAKE.telegram.webhookSecret,
      ]) {
        expect(text).not.toContain(secret);
      }
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("429 with retry_after: the next attempt waits at least that long", async () => {
    const { sender, recipient } = await pair("rl");
    const tg = await connectTelegram(recipient);
    await script(tg.key, [
      {
        status: 429,
        body: { ok: false, error_code: 429, description: "Too Many Requests", parameters: { retry_after: 4 } },
      },
    ]);
    await sendOk(sender, recipient);
    const reqs = await waitFor(
      async () => about(await railRequests(tg.key), "on Paid Inbox"),
      (r) => r.length >= 2,
      60_000,
    );
    expect(reqs.map((r) => r.status)).toEqual([429, 200]);
    // Backoff alone would be 1 s here; the provider asked for 4.
    expect(reqs[1].at - reqs[0].at).toBeGreaterThanOrEqual(4_000);
  });

  it("telegram 403 (bot blocked) revokes the channel and stops retrying", async () => {
    const { sender, recipient } = await pair("tb");
    const tg = await connectTelegram(recipient);
    await script(tg.key, [], {
      status: 403,
      body: { ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" },
    });
    await sendOk(sender, recipient);
    const ch = await waitFor(
      () => channelOf(recipient, "telegram"),
      (c) => c.status === "revoked",
    );
    expect(ch).toMatchObject({ status: "revoked", health: { lastError: "blocked_by_user" } });
    const row = await env.DB.prepare("SELECT ciphertext FROM channels WHERE user_id = ? AND channel = 'telegram'")
      .bind(recipient.user.id)
      .first();
    expect(row).toEqual({ ciphertext: null });
    await sleep(2_000);
    expect(about(await railRequests(tg.key), "on Paid Inbox")).toHaveLength(1);
  });

  it("a receiver failing until the third attempt gets exactly one accepted delivery, signed with the shown secret", async () => {
    const { sender, recipient } = await pair("w3");
    const hook = await connectWebhook(recipient);
    await script(hook.key, [{ status: 503 }, { status: 500 }]);
    const m = await sendOk(sender, recipient);
    const reqs = await waitFor(
      () => railRequests(hook.key),
      (r) => r.some((x) => x.status === 200),
    );
    await sleep(2_500);
    const all = await railRequests(hook.key);
    expect(all.map((r) => r.status)).toEqual([503, 500, 200]);
    expect(delivered(all)).toHaveLength(1);
    // One event: the same webhook-id on every attempt, so receivers can deduplicate.
    expect(new Set(all.map((r) => r.headers["webhook-id"])).size).toBe(1);
    const ok = delivered(reqs)[0];
    const event = new Webhook(hook.secret).verify(ok.body, ok.headers) as { messageId: string };
    expect(event.messageId).toBe(m.messageId);
    expect(() => new Webhook(`whsec_${btoa("some-other-secret-0123456789")}`).verify(ok.body, ok.headers)).toThrow();
  });

  it("a provider that never answers is abandoned at the timeout and retried (NOTIFY_PROVIDER_TIMEOUT_MS)", async () => {
    // vitest.config.ts sets the timeout to 3 s (production: 10 s); the fake holds the first request open.
    const { sender, recipient } = await pair("to");
    const hook = await connectWebhook(recipient);
    await script(hook.key, [{ hang: true }]);
    await sendOk(sender, recipient);
    const reqs = await waitFor(
      () => railRequests(hook.key),
      (r) => r.some((x) => x.status === 200),
    );
    expect(reqs.map((r) => r.status)).toEqual([0, 200]);
    const log = await waitFor(
      () => attempts(recipient.user.id, "webhook"),
      (l) => l.length === 2,
    );
    expect(log.map((a) => [a.outcome, a.provider_code])).toEqual([
      ["retry", 0],
      ["delivered", 200],
    ]);
    // Abandoned at the configured timeout: not before it, and long before the 10 s default.
    expect(log[0].latency_ms).toBeGreaterThanOrEqual(2_900);
    expect(log[0].latency_ms).toBeLessThan(8_000);
    // The health says why (a timeout, not an unreachable host), and that it was delivered since.
    const health = (await channelOf(recipient, "webhook")).health;
    expect(health.lastError).toBe("timeout");
    expect(health.lastDeliveredAt).not.toBe(null);
  });

  it("max retries → dead letter (ops can list it); redrive → delivered once", async () => {
    const { sender, recipient } = await pair("dl");
    const hook = await connectWebhook(recipient);
    await script(hook.key, [], { status: 503 });
    await sendOk(sender, recipient);
    const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
    const dead = await waitFor(
      async () =>
        (
          (await api("GET", "/v1/ops/deliveries/dead-letters", { headers: admin })).body.deadLetters as {
            id: number;
            userId: string;
            channel: string;
            lastError: string;
            redrivenAt: string | null;
          }[]
        ).filter((d) => d.userId === recipient.user.id),
      (d) => d.length > 0,
      60_000,
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ channel: "webhook", lastError: "retry 503", redrivenAt: null });
    // One inline attempt, then the job's first try and max_retries (2) retries.
    expect((await railRequests(hook.key)).map((r) => r.status)).toEqual([503, 503, 503, 503]);
    expect(JSON.stringify(await env.DB.prepare("SELECT * FROM dead_letters").all())).not.toContain(hook.secret);

    await script(hook.key, []); // the receiver is back
    const redrive = await api("POST", "/v1/ops/deliveries/redrive", { headers: admin, body: { ids: [dead[0].id] } });
    expect(redrive.body).toEqual({ redriven: 1 });
    const again = await api("POST", "/v1/ops/deliveries/redrive", { headers: admin, body: { ids: [dead[0].id] } });
    expect(again.body).toEqual({ redriven: 0 });
    await waitFor(
      () => railRequests(hook.key),
      (r) => r.some((x) => x.status === 200),
    );
    await sleep(2_500);
    expect(delivered(await railRequests(hook.key))).toHaveLength(1);
    expect((await api("POST", "/v1/ops/deliveries/redrive", { body: {} })).status).toBe(401);
  });
});

describe("idempotency and availability", () => {
  it("the same queue message delivered twice sends one notification", async () => {
    const { sender, recipient } = await pair("dup");
    const hook = await connectWebhook(recipient);
    const messageId = `0x${crypto.getRandomValues(new Uint8Array(32)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "")}`;
    const job: DeliveryJob = {
      kind: "notify",
      recipientId: recipient.user.id,
      items: [
        {
          messageId,
          from: { id: sender.user.id, handle: sender.handle },
          price: "1000000",
          status: "delivered",
          createdAt: Date.now(),
        },
      ],
    };
    for (let i = 0; i < 2; i++) {
      const batch = createMessageBatch<DeliveryJob>("deliveries", [
        { id: `m-${messageId}`, timestamp: new Date(), attempts: i + 1, body: job },
      ]);
      const ctx = createExecutionContext();
      await consumeDeliveries(batch, env);
      const result = await getQueueResult(batch, ctx);
      expect(result.explicitAcks).toEqual([`m-${messageId}`]);
    }
    // And once more through the real queue.
    await env.DELIVERIES.send(job, { contentType: "json" });
    await sleep(2_500);
    expect(about(await railRequests(hook.key), messageId)).toHaveLength(1);
  });

  it("a claim still in flight elsewhere sends the message back for later; a stale one is taken over", async () => {
    const { sender, recipient } = await pair("cl");
    const hook = await connectWebhook(recipient);
    const messageId = `0x${crypto.getRandomValues(new Uint8Array(32)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "")}`;
    const job: DeliveryJob = {
      kind: "notify",
      recipientId: recipient.user.id,
      items: [
        {
          messageId,
          from: { id: sender.user.id, handle: sender.handle },
          price: "1000000",
          status: "delivered",
          createdAt: Date.now(),
        },
      ],
    };
    // Another consumer claimed it a moment ago (or claimed it and died).
    await env.DB.prepare(
      `INSERT INTO deliveries (key, channel, user_id, state, attempts, claimed_at, created_at, updated_at)
       VALUES (?, 'webhook', ?, 'sending', 1, ?, ?, ?)`,
    )
      .bind(messageId, recipient.user.id, Date.now(), Date.now(), Date.now())
      .run();
    const run = async () => {
      const batch = createMessageBatch<DeliveryJob>("deliveries", [
        { id: `c-${messageId}`, timestamp: new Date(), attempts: 1, body: job },
      ]);
      const ctx = createExecutionContext();
      await consumeDeliveries(batch, env);
      return getQueueResult(batch, ctx);
    };
    const first = await run();
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual([`c-${messageId}`]);
    expect(await railRequests(hook.key)).toHaveLength(0);
    // A minute later the claim is stale: this consumer takes it over and delivers.
    await env.DB.prepare("UPDATE deliveries SET claimed_at = ? WHERE key = ?")
      .bind(Date.now() - 61_000, messageId)
      .run();
    expect((await run()).explicitAcks).toEqual([`c-${messageId}`]);
    expect(await railRequests(hook.key)).toHaveLength(1);
  });

  it("one queue batch with notices for many channels: each delivered once", async () => {
    const sender = await funded("0", "mb");
    const recipients = await Promise.all(Array.from({ length: 15 }, () => funded("0", "mbr")));
    const hooks = await Promise.all(recipients.map((r) => connectWebhook(r)));
    const jobs = recipients.map((r, i) => ({
      id: `mb-${i}-${Date.now()}`,
      timestamp: new Date(),
      attempts: 1,
      body: {
        kind: "notify",
        recipientId: r.user.id,
        items: [
          {
            messageId: `0x${crypto.getRandomValues(new Uint8Array(32)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "")}`,
            from: { id: sender.user.id, handle: sender.handle },
            price: "1000000",
            status: "delivered",
            createdAt: Date.now(),
          },
        ],
      } satisfies DeliveryJob,
    }));
    const batch = createMessageBatch<DeliveryJob>("deliveries", jobs);
    const ctx = createExecutionContext();
    await consumeDeliveries(batch, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(15);
    for (const h of hooks) expect(await railRequests(h.key)).toHaveLength(1);
    const { results } = await env.DB.prepare(
      `SELECT COUNT(*) AS n FROM deliveries WHERE state = 'delivered' AND user_id IN (${recipients.map(() => "?").join(", ")})`,
    )
      .bind(...recipients.map((r) => r.user.id))
      .all<{ n: number }>();
    expect(results[0].n).toBe(15);
  });

  it("with the consumer stopped the inbox works; the notices go out once it runs again", async () => {
    const { sender, recipient } = await pair("st");
    const hook = await connectWebhook(recipient);
    let release!: () => void;
    consumerGate.hold = new Promise<void>((r) => {
      release = r;
    });
    try {
      const a = await sendOk(sender, recipient);
      const b = await sendOk(sender, recipient);
      const inbox = await api("GET", "/v1/inbox", { token: recipient.accessToken });
      expect(inbox.status).toBe(200);
      expect(inbox.body.messages.map((m: { messageId: string }) => m.messageId)).toEqual([b.messageId, a.messageId]);
      await sleep(4_000);
      expect(await railRequests(hook.key)).toHaveLength(0);
    } finally {
      consumerGate.hold = null;
      release();
    }
    const reqs = await waitFor(
      () => railRequests(hook.key),
      (r) => r.length > 0,
    );
    expect(reqs).toHaveLength(1);
    expect(JSON.parse(reqs[0].body).count ?? 1).toBeGreaterThanOrEqual(1);
  });

  it("a test notification goes out on the channel", async () => {
    const { recipient } = await pair("tn");
    const hook = await connectWebhook(recipient);
    expect((await api("POST", "/v1/channels/webhook/test", { token: recipient.accessToken })).status).toBe(202);
    const [req] = await waitFor(
      () => railRequests(hook.key),
      (r) => r.length > 0,
    );
    expect(new Webhook(hook.secret).verify(req.body, req.headers)).toMatchObject({ type: "channel.test" });
  });
});
