// Notification channels (mounted at /v1/channels): list, connect with consent,
// settings, test, disconnect, and the X account-link callback. The rails
// themselves are in worker/notify/.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { randomToken, sha256Hex, timingSafeEqual } from "../auth/crypto";
import { config } from "../config";
import type { DeliveryJob } from "../domain/delivery-job";
import { ApiError, notFound, unauthorized } from "../http/errors";
import { Amount, type AppEnv, bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { appOrigin } from "../identity/config";
import { requireUser } from "../middleware/auth";
import {
  deleteChannel,
  getChannel,
  listChannels,
  patchChannel,
  saveConnection,
  toChannelJson,
  verifiedContact,
} from "../notify/channels";
import { availableChannels, CHANNELS, type ChannelName, notifyConfig } from "../notify/config";
import { CONSENT_TEXT, CONSENT_VERSION } from "../notify/consent";
import { newSigningSecret } from "../notify/providers/webhook";
import { checkWebhookUrl } from "../notify/webhook-url";
import { completeXLink, startXLink, X_STATE_TTL_MS } from "../notify/x-link";

const tag = ["Channels"];
/** A Telegram deep-link token is good for this long. */
export const TELEGRAM_LINK_TTL_MS = 30 * 60 * 1000;
const X_COOKIE = "pi_x_link_state";
const X_COOKIE_PATH = "/v1/channels/x";

export const ChannelSchema = z
  .object({
    channel: z.enum(CHANNELS),
    status: z.enum(["pending", "connected", "revoked"]),
    consentVersion: z.string(),
    consentAt: z.string(),
    connectedAt: z.string().nullable(),
    includeBody: z.boolean(),
    minPrice: z.string(),
    health: z.object({
      lastDeliveredAt: z.string().nullable(),
      lastError: z.string().nullable().openapi({ description: "e.g. http_500, rate_limited, blocked_by_user" }),
      lastErrorAt: z.string().nullable(),
    }),
  })
  .openapi("Channel");

const ChannelParam = z.object({
  channel: z.enum(CHANNELS).openapi({ param: { name: "channel", in: "path" }, example: "telegram" }),
});

const list = createRoute({
  method: "get",
  path: "/",
  tags: tag,
  summary: "Your notification channels, the current consent version and text, and the rails offered here",
  security: bearerAuth,
  middleware: [requireUser] as const,
  responses: {
    200: jsonResponse(
      z.object({
        channels: z.array(ChannelSchema),
        consentVersion: z.string(),
        consentText: z.string(),
        available: z.array(z.enum(CHANNELS)),
      }),
      "Channels",
    ),
    ...errors(401),
  },
});

const connect = createRoute({
  method: "post",
  path: "/{channel}/connect",
  tags: tag,
  summary: "Connect a channel (consent to the current consent version required)",
  description:
    'telegram → `{status: "pending", connectUrl}` (a t.me deep link with a one-time token, 30 minutes); ' +
    'x → `{status: "pending", connectUrl}` (X\'s OAuth 2.0 consent page); whatsapp (verified phone required), ' +
    'email (verified email required) → `{status: "connected"}`; webhook `{url}` → `{status: "connected", ' +
    "signingSecret}`, the `whsec_…` secret shown this once. Missing or stale consentVersion → 400 consent_required.",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: {
    params: ChannelParam,
    body: jsonBody(
      z
        .object({
          consentVersion: z.string().max(64).optional(),
          url: z.string().max(2048).optional().openapi({ description: "webhook only" }),
        })
        .strict(),
    ),
  },
  responses: {
    200: jsonResponse(
      z.object({
        channel: ChannelSchema,
        status: z.enum(["pending", "connected"]),
        connectUrl: z.string().optional(),
        signingSecret: z.string().optional(),
      }),
      "Connected, or pending the user's step at the provider",
    ),
    ...errors(400, 401, 409),
  },
});

const patch = createRoute({
  method: "patch",
  path: "/{channel}",
  tags: tag,
  summary: 'Channel settings: includeBody (default false), minPrice (default "0")',
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: {
    params: ChannelParam,
    body: jsonBody(z.object({ includeBody: z.boolean().optional(), minPrice: Amount.optional() }).strict()),
  },
  responses: { 200: jsonResponse(ChannelSchema, "The channel"), ...errors(400, 401, 404) },
});

const test = createRoute({
  method: "post",
  path: "/{channel}/test",
  tags: tag,
  summary: "Send a test notification through a connected channel",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: ChannelParam },
  responses: { 202: jsonResponse(z.object({ queued: z.literal(true) }), "Queued"), ...errors(401, 404, 409) },
});

const remove = createRoute({
  method: "delete",
  path: "/{channel}",
  tags: tag,
  summary: "Disconnect a channel; its credentials are deleted",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: ChannelParam },
  responses: { 204: { description: "Gone (also when it was not connected)" }, ...errors(401) },
});

const xCallback = createRoute({
  method: "get",
  path: "/x/callback",
  tags: tag,
  summary: "X redirect target after the user allowed the link (OAuth 2.0 + PKCE)",
  description:
    "With `Accept: application/json` answers `{channel}`; browsers (which must carry the state cookie set at " +
    "connect) are redirected to `/settings?connected=x`. Bad or reused state → 401.",
  request: {
    query: z.object({
      code: z.string().max(2048).optional(),
      state: z.string().max(256).optional(),
      error: z.string().max(256).optional(),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ channel: ChannelSchema }), "Linked (JSON clients)"),
    302: { description: "Back to the web UI" },
    ...errors(400, 401, 502),
  },
});

function requireConsent(version: string | undefined) {
  if (version !== CONSENT_VERSION) {
    throw new ApiError(
      400,
      "consent_required",
      version ? "That consent version is out of date; show the current text again." : "Consent is required.",
      { consentVersion: CONSENT_VERSION },
    );
  }
}

function requireAvailable(env: Env, channel: ChannelName) {
  if (!availableChannels(env).includes(channel)) {
    throw new ApiError(409, "channel_unavailable", `Notifications by ${channel} are not offered here.`);
  }
}

async function connectedChannel(env: Env, userId: string, channel: ChannelName) {
  const row = await getChannel(env, userId, channel);
  if (!row) throw notFound("channel_not_found", `No ${channel} channel.`);
  return row;
}

const wantsJson = (c: Context<AppEnv>) => (c.req.header("accept") ?? "").includes("application/json");

export const channelRoutes = createRouter()
  .openapi(list, async (c) => {
    const rows = await listChannels(c.env, c.var.userId);
    return c.json(
      {
        channels: rows.map(toChannelJson),
        consentVersion: CONSENT_VERSION,
        consentText: CONSENT_TEXT,
        available: availableChannels(c.env),
      },
      200,
    );
  })
  .openapi(connect, async (c) => {
    const { channel } = c.req.valid("param");
    const body = c.req.valid("json");
    requireConsent(body.consentVersion);
    requireAvailable(c.env, channel);
    const userId = c.var.userId;
    const consentVersion = CONSENT_VERSION;
    const nc = notifyConfig(c.env);
    let extra: { connectUrl?: string; signingSecret?: string } = {};
    if (body.url !== undefined && channel !== "webhook") {
      throw new ApiError(400, "invalid_request", "url is for the webhook channel only.");
    }
    switch (channel) {
      case "telegram": {
        const token = randomToken(24);
        await saveConnection(c.env, userId, channel, {
          status: "pending",
          consentVersion,
          connectTokenHash: await sha256Hex(token),
          connectExpiresAt: Date.now() + TELEGRAM_LINK_TTL_MS,
        });
        extra = { connectUrl: `https://t.me/${nc.telegram?.botUsername}?start=${token}` };
        break;
      }
      case "x": {
        const x = nc.x as NonNullable<typeof nc.x>;
        const { url, state } = await startXLink(
          c.env,
          x,
          userId,
          `${appOrigin(c.env, c.req.url)}/v1/channels/x/callback`,
        );
        await saveConnection(c.env, userId, channel, { status: "pending", consentVersion });
        setCookie(c, X_COOKIE, state, {
          path: X_COOKIE_PATH,
          httpOnly: true,
          sameSite: "Lax",
          secure: appOrigin(c.env, c.req.url).startsWith("https:"),
          maxAge: X_STATE_TTL_MS / 1000,
        });
        extra = { connectUrl: url };
        break;
      }
      case "whatsapp": {
        const phone = await verifiedContact(c.env, userId, "phone");
        if (!phone)
          throw new ApiError(409, "phone_not_verified", "Verify a phone number first (POST /v1/verify/request).");
        await saveConnection(c.env, userId, channel, { status: "connected", consentVersion, credentials: { phone } });
        break;
      }
      case "email": {
        if (!(await verifiedContact(c.env, userId, "email"))) {
          throw new ApiError(409, "email_not_verified", "Verify an email address first (POST /v1/verify/request).");
        }
        await saveConnection(c.env, userId, channel, { status: "connected", consentVersion });
        break;
      }
      case "webhook": {
        if (!body.url) throw new ApiError(400, "invalid_request", "url is required for the webhook channel.");
        const checked = checkWebhookUrl(body.url, {
          development: config(c.env).isDevelopment,
          extraPorts: nc.webhookPorts,
        });
        if (!checked.ok) throw new ApiError(400, "invalid_webhook_url", checked.reason);
        const secret = newSigningSecret();
        await saveConnection(c.env, userId, channel, {
          status: "connected",
          consentVersion,
          credentials: { url: checked.url, secret },
        });
        extra = { signingSecret: secret };
        break;
      }
    }
    const row = await connectedChannel(c.env, userId, channel);
    return c.json({ channel: toChannelJson(row), status: row.status as "pending" | "connected", ...extra }, 200);
  })
  .openapi(patch, async (c) => {
    const { channel } = c.req.valid("param");
    const row = await patchChannel(c.env, c.var.userId, channel, c.req.valid("json"));
    if (!row) throw notFound("channel_not_found", `No ${channel} channel.`);
    return c.json(toChannelJson(row), 200);
  })
  .openapi(test, async (c) => {
    const { channel } = c.req.valid("param");
    const row = await connectedChannel(c.env, c.var.userId, channel);
    if (row.status !== "connected")
      throw new ApiError(409, "channel_not_connected", `The ${channel} channel is ${row.status}.`);
    const job: DeliveryJob = {
      kind: "deliver",
      recipientId: c.var.userId,
      channel,
      key: `test:${crypto.randomUUID()}`,
      items: [],
      prior: 0,
      test: true,
    };
    await c.env.DELIVERIES.send(job, { contentType: "json" });
    return c.json({ queued: true as const }, 202);
  })
  .openapi(remove, async (c) => {
    await deleteChannel(c.env, c.var.userId, c.req.valid("param").channel);
    return c.body(null, 204);
  })
  .openapi(xCallback, async (c) => {
    const x = notifyConfig(c.env).x;
    if (!x) throw notFound();
    const { code, state, error } = c.req.valid("query");
    if (error) throw new ApiError(400, "oauth_denied", "X did not authorize the link.");
    if (!state) throw unauthorized("Missing or invalid state.");
    if (!code) throw new ApiError(400, "invalid_request", "code is required.");
    const json = wantsJson(c);
    if (!json) {
      const cookie = getCookie(c, X_COOKIE) ?? "";
      deleteCookie(c, X_COOKIE, { path: X_COOKIE_PATH });
      if (!timingSafeEqual(cookie, state)) throw unauthorized("This link was started in another browser.");
    }
    const outcome = await completeXLink(c.env, x, code, state);
    if (!outcome.ok) {
      if (outcome.reason === "provider_error")
        throw new ApiError(502, "x_provider_error", "X did not answer as expected.");
      throw unauthorized(outcome.reason === "bad_state" ? "Missing, unknown or reused state." : "X refused the code.");
    }
    if (!json) return c.redirect(`${appOrigin(c.env, c.req.url)}/settings?connected=x`, 302);
    const row = await connectedChannel(c.env, outcome.userId, "x");
    return c.json({ channel: toChannelJson(row) }, 200);
  });
