// Provider webhooks (mounted at /webhooks): Telegram (secret-token header),
// WhatsApp Cloud API (verify-token challenge, X-Hub-Signature-256), X (CRC
// challenge, x-twitter-webhooks-signature). A request that fails its check is
// 401 and changes nothing. Raw bodies are verified before they are parsed.
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, gt } from "drizzle-orm";
import { sha256Hex } from "../auth/crypto";
import { db } from "../db/client";
import { channels } from "../db/schema";
import { ApiError, notFound, unauthorized } from "../http/errors";
import { createRouter, errors, jsonResponse } from "../http/router";
import { completeConnection, revokeBySubject } from "../notify/channels";
import { notifyConfig } from "../notify/config";
import { telegramCall } from "../notify/providers/telegram";
import { sameSecret, validHubSignature, validXSignature, xCrcResponse } from "../notify/signatures";

const tag = ["Webhooks"];
const ok = { 200: { description: "Accepted" }, ...errors(401, 404) };

const telegram = createRoute({
  method: "post",
  path: "/telegram",
  tags: tag,
  summary: "Telegram Bot API updates: /start <token> binds the chat, /stop revokes it",
  description: "Requires `X-Telegram-Bot-Api-Secret-Token` (set with setWebhook's secret_token).",
  responses: ok,
});

const whatsappVerify = createRoute({
  method: "get",
  path: "/whatsapp",
  tags: tag,
  summary: "WhatsApp webhook verification: answers hub.challenge for the right verify token",
  request: {
    query: z.object({
      "hub.mode": z.string().max(64).optional(),
      "hub.verify_token": z.string().max(256).optional(),
      "hub.challenge": z.string().max(256).optional(),
    }),
  },
  responses: { 200: { description: "The challenge, as text" }, ...errors(401, 404) },
});

const whatsappEvents = createRoute({
  method: "post",
  path: "/whatsapp",
  tags: tag,
  summary: "WhatsApp status callbacks (delivered / read / failed) update the delivery attempt log",
  description: "Requires `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body with the app secret>`.",
  responses: ok,
});

// X signs only its POSTs (x-twitter-webhooks-signature); the CRC GET carries no
// signature — answering it with the HMAC is how X checks that we hold the consumer
// secret. Because POST signatures are the same HMAC over the body, an answer to an
// arbitrary crc_token would be a signing oracle (GET ?crc_token=<forged event> → a
// valid signature for that event). So only token-shaped values are answered:
// base64/base64url characters, which can never form a JSON event body.
const CRC_TOKEN = /^[A-Za-z0-9+/=_-]{1,512}$/;

const xCrc = createRoute({
  method: "get",
  path: "/x",
  tags: tag,
  summary: 'X CRC challenge: `{response_token: "sha256=<base64 HMAC-SHA256(crc_token)>"}`',
  description:
    "Unsigned (X signs only POSTs). Answers only a token of base64/base64url characters, so it cannot sign a forged event body.",
  request: { query: z.object({ crc_token: z.string().regex(CRC_TOKEN) }) },
  responses: { 200: jsonResponse(z.object({ response_token: z.string() }), "CRC answer"), ...errors(400, 404) },
});

const xEvents = createRoute({
  method: "post",
  path: "/x",
  tags: tag,
  summary: "X account activity: a revoked app authorization revokes the X channel",
  description: "Requires `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256 of the body>`.",
  responses: ok,
});

function parse<T>(raw: string): T {
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new ApiError(400, "invalid_json", "Request body is not valid JSON.");
  }
}

interface TelegramUpdate {
  message?: { chat?: { id?: number | string }; text?: string };
}

interface WhatsAppPayload {
  entry?: { changes?: { value?: { statuses?: { id?: string; status?: string }[] } }[] }[];
}

interface XPayload {
  user_event?: { revoke?: { source?: { user_id?: string } } };
}

export const webhookRoutes = createRouter()
  .openapi(telegram, async (c) => {
    const tg = notifyConfig(c.env).telegram;
    if (!tg) throw notFound();
    if (!sameSecret(tg.webhookSecret, c.req.header("x-telegram-bot-api-secret-token")))
      throw unauthorized("Bad secret token.");
    const update = parse<TelegramUpdate>(await c.req.text());
    const chatId = update.message?.chat?.id;
    const text = update.message?.text?.trim() ?? "";
    if (chatId === undefined || (typeof chatId !== "number" && typeof chatId !== "string")) return c.body(null, 200);
    const chat = String(chatId);
    const reply = (t: string) =>
      c.executionCtx.waitUntil(
        telegramCall(tg, "sendMessage", { chat_id: chat, text: t }).then(({ res }) => res?.body?.cancel()),
      );
    const start = text.match(/^\/start(?:@\w+)?\s+([A-Za-z0-9_-]{16,64})$/);
    if (start) {
      const row = await db(c.env)
        .select()
        .from(channels)
        .where(
          and(
            eq(channels.connectTokenHash, await sha256Hex(start[1])),
            eq(channels.channel, "telegram"),
            eq(channels.status, "pending"),
            gt(channels.connectExpiresAt, Date.now()),
          ),
        )
        .get();
      if (!row) {
        reply("That link has expired. Connect Telegram again from your Paid Inbox settings.");
        return c.body(null, 200);
      }
      await completeConnection(c.env, row, { chatId: chat }, chat);
      reply("Connected: you will get a note here when a paid message arrives. Send /stop to turn it off.");
    } else if (/^\/stop(?:@\w+)?$/.test(text)) {
      const n = await revokeBySubject(c.env, "telegram", chat, "stopped_by_user");
      if (n) reply("Stopped. You will get no more notes here.");
    }
    return c.body(null, 200);
  })
  .openapi(whatsappVerify, async (c) => {
    const wa = notifyConfig(c.env).whatsapp;
    if (!wa) throw notFound();
    const q = c.req.valid("query");
    if (q["hub.mode"] !== "subscribe" || !sameSecret(wa.verifyToken, q["hub.verify_token"])) {
      throw unauthorized("Bad verify token.");
    }
    return c.text(q["hub.challenge"] ?? "", 200);
  })
  .openapi(whatsappEvents, async (c) => {
    const wa = notifyConfig(c.env).whatsapp;
    if (!wa) throw notFound();
    const raw = await c.req.text();
    if (!(await validHubSignature(wa.appSecret, raw, c.req.header("x-hub-signature-256")))) {
      throw unauthorized("Bad signature.");
    }
    const payload = parse<WhatsAppPayload>(raw);
    const now = Date.now();
    const stmts: D1PreparedStatement[] = [];
    for (const entry of payload.entry ?? []) {
      for (const change of entry.changes ?? []) {
        for (const s of change.value?.statuses ?? []) {
          if (typeof s.id !== "string" || !["sent", "delivered", "read", "failed"].includes(s.status ?? "")) continue;
          stmts.push(
            c.env.DB.prepare(
              "UPDATE delivery_attempts SET provider_status = ? WHERE channel = 'whatsapp' AND provider_message_id = ?",
            ).bind(s.status, s.id),
          );
          if (s.status === "failed") {
            stmts.push(
              c.env.DB.prepare(
                `UPDATE channels SET last_error = 'whatsapp_failed', last_error_at = ? WHERE channel = 'whatsapp'
                 AND user_id = (SELECT user_id FROM delivery_attempts WHERE channel = 'whatsapp' AND provider_message_id = ? LIMIT 1)`,
              ).bind(now, s.id),
            );
          }
        }
      }
    }
    if (stmts.length) await c.env.DB.batch(stmts.slice(0, 200));
    return c.body(null, 200);
  })
  .openapi(xCrc, async (c) => {
    const x = notifyConfig(c.env).x;
    if (!x) throw notFound();
    return c.json({ response_token: await xCrcResponse(x.consumerSecret, c.req.valid("query").crc_token) }, 200);
  })
  .openapi(xEvents, async (c) => {
    const x = notifyConfig(c.env).x;
    if (!x) throw notFound();
    const raw = await c.req.text();
    if (!(await validXSignature(x.consumerSecret, raw, c.req.header("x-twitter-webhooks-signature")))) {
      throw unauthorized("Bad signature.");
    }
    const revoked = parse<XPayload>(raw).user_event?.revoke?.source?.user_id;
    if (typeof revoked === "string" && /^\d{1,25}$/.test(revoked)) {
      await revokeBySubject(c.env, "x", revoked, "revoked_at_x");
    }
    return c.body(null, 200);
  });
