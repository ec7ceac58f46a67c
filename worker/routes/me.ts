import { createRoute, z } from "@hono/zod-openapi";
import { complain } from "../abuse";
import { config } from "../config";
import { isCleanLine, isCleanText } from "../domain/text";
import { ApiError, notFound } from "../http/errors";
import { Amount, bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { countPhoneLookup, limitLookups } from "../identity/rate-limit";
import { requireUser } from "../middleware/auth";
import { listChannels, toChannelJson } from "../notify/channels";
import { evictProfile, publishPricing } from "../profile-cache";
import { findRecipient, findRecipientByPhone } from "../recipients";
import { findUser, toUserJson, updateProfile } from "../users";
import { UserSchema } from "./schemas";

const tag = ["Me"];

export const PricingSchema = z
  .object({
    defaultPrice: z.string(),
    firstContactPrice: z.string(),
    returnDiscountBps: z.number().int(),
    settlement: z.enum(["instant", "on_reply"]),
    replyWindowHours: z.number().int(),
  })
  .openapi("Pricing");

const Bps = z.number().int().min(0).max(10_000);

const getMe = createRoute({
  method: "get",
  path: "/",
  tags: tag,
  summary: "The signed-in user with balance, held funds, pricing and channels",
  security: bearerAuth,
  middleware: [requireUser] as const,
  responses: {
    200: jsonResponse(
      z.object({
        user: UserSchema,
        balance: z.string(),
        held: z.string(),
        pricing: PricingSchema,
        profile: z.object({
          bio: z.string().nullable(),
          discoverableByPhone: z.boolean(),
          discoverableInSearch: z.boolean(),
        }),
        channels: z.array(z.object({ channel: z.string(), status: z.string() }).passthrough()),
      }),
      "The caller",
    ),
    ...errors(401),
  },
});

const putProfile = createRoute({
  method: "put",
  path: "/profile",
  tags: tag,
  summary: "Update handle, display name, bio and discoverability",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: {
    body: jsonBody(
      z
        .object({
          handle: z.string().max(64).optional(),
          displayName: z
            .string()
            .trim()
            .min(1)
            .max(80)
            .refine(isCleanLine, "must not contain control or bidi-override characters")
            .nullable()
            .optional(),
          bio: z
            .string()
            .max(500)
            .refine(isCleanText, "must not contain control (other than newline and tab) or bidi-override characters")
            .nullable()
            .optional(),
          discoverableByPhone: z.boolean().optional(),
          discoverableInSearch: z.boolean().optional(),
        })
        .strict(),
    ),
  },
  responses: { 200: jsonResponse(z.object({ user: UserSchema }), "Updated"), ...errors(400, 401, 409) },
});

const putPricing = createRoute({
  method: "put",
  path: "/pricing",
  tags: tag,
  summary: "Set what senders pay you",
  description: "Prices are at most MAX_PRICE base units (default 2^96 − 1, what the PricingRegistry can hold).",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: {
    body: jsonBody(
      z
        .object({
          defaultPrice: Amount,
          firstContactPrice: Amount,
          returnDiscountBps: Bps,
          settlement: z.enum(["instant", "on_reply"]),
          replyWindowHours: z
            .number()
            .int()
            .min(1)
            .max(24 * 30)
            .optional(),
        })
        .strict(),
    ),
  },
  responses: { 200: jsonResponse(z.object({ pricing: PricingSchema }), "Saved"), ...errors(400, 401) },
});

const SenderParam = z.object({ sender: z.string().min(1).max(64).openapi({ description: "handle or user id" }) });

const putAllow = createRoute({
  method: "put",
  path: "/allowlist/{sender}",
  tags: tag,
  summary: "Give a sender a discount off your default price",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: SenderParam, body: jsonBody(z.object({ discountBps: Bps }).strict()) },
  responses: {
    200: jsonResponse(
      z.object({ entry: z.object({ sender: z.string(), handle: z.string().nullable(), discountBps: z.number() }) }),
      "Saved",
    ),
    ...errors(400, 401, 404),
  },
});

const deleteAllow = createRoute({
  method: "delete",
  path: "/allowlist/{sender}",
  tags: tag,
  summary: "Remove a sender from your allowlist",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: SenderParam },
  responses: { 204: { description: "Removed" }, ...errors(401, 404) },
});

const putBlock = createRoute({
  method: "put",
  path: "/blocklist/{sender}",
  tags: tag,
  summary: "Refuse paid messages from a sender",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: SenderParam },
  responses: { 204: { description: "Blocked" }, ...errors(401, 404) },
});

const deleteBlock = createRoute({
  method: "delete",
  path: "/blocklist/{sender}",
  tags: tag,
  summary: "Unblock a sender",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: SenderParam },
  responses: { 204: { description: "Unblocked" }, ...errors(401, 404) },
});

const Entry = z.object({ sender: z.string(), handle: z.string().nullable() });
const PhoneBody = { phone: z.string().min(1).max(32).openapi({ description: "E.164; kept out of the URL" }) };

const postAllow = createRoute({
  method: "post",
  path: "/allowlist",
  tags: tag,
  summary: "Allowlist a sender found by phone number (the number stays out of the URL)",
  description: "Counts as a phone lookup (limits and daily cap). Remove it with DELETE /allowlist/{sender id}.",
  security: bearerAuth,
  middleware: [requireUser, limitLookups] as const,
  request: { body: jsonBody(z.object({ ...PhoneBody, discountBps: Bps }).strict()) },
  responses: {
    200: jsonResponse(z.object({ entry: Entry.extend({ discountBps: z.number() }) }), "Saved"),
    ...errors(400, 401, 404, 429),
  },
});

const postBlock = createRoute({
  method: "post",
  path: "/blocklist",
  tags: tag,
  summary: "Block a sender found by phone number (the number stays out of the URL)",
  description: "Counts as a phone lookup (limits and daily cap). Unblock with DELETE /blocklist/{sender id}.",
  security: bearerAuth,
  middleware: [requireUser, limitLookups] as const,
  request: { body: jsonBody(z.object(PhoneBody).strict()) },
  responses: { 200: jsonResponse(z.object({ entry: Entry }), "Blocked"), ...errors(400, 401, 404, 429) },
});

async function senderByPhone(env: Env, phone: string, self: string): Promise<{ id: string; handle: string | null }> {
  await countPhoneLookup(env, self);
  const user = await findRecipientByPhone(env, phone);
  // Same 404 as an unknown handle: a hidden number is indistinguishable from an unknown one.
  if (!user) throw notFound("user_not_found", "No such user.");
  if (user.id === self) throw new ApiError(400, "invalid_request", "That is you.");
  return { id: user.id, handle: user.handle };
}

async function senderId(env: Env, selector: string, self: string): Promise<{ id: string; handle: string | null }> {
  if (selector.trim().startsWith("+")) {
    throw new ApiError(400, "phone_in_url", "Send phone numbers in the body: POST /v1/me/allowlist or /blocklist.");
  }
  const user = await findRecipient(env, selector);
  if (!user) throw notFound("user_not_found", "No such user.");
  if (user.id === self) throw new ApiError(400, "invalid_request", "That is you.");
  return { id: user.id, handle: user.handle };
}

export const meRoutes = createRouter()
  .openapi(getMe, async (c) => {
    const [user, account, channels] = await Promise.all([
      findUser(c.env, c.var.userId),
      c.env.ACCOUNT.getByName(c.var.userId).summary(),
      listChannels(c.env, c.var.userId),
    ]);
    if (!user) throw notFound("not_found", "User not found.");
    const profile = {
      bio: user.bio,
      discoverableByPhone: user.discoverableByPhone,
      discoverableInSearch: user.discoverableInSearch,
    };
    return c.json({ user: toUserJson(user), ...account, profile, channels: channels.map(toChannelJson) }, 200);
  })
  .openapi(putProfile, async (c) => {
    const patch = c.req.valid("json");
    const before = await findUser(c.env, c.var.userId);
    const user = await updateProfile(c.env, c.var.userId, patch);
    // The Account keeps its handle to stamp on messages it sends and receives.
    if (patch.handle !== undefined) await c.env.ACCOUNT.getByName(c.var.userId).setHandle(user.handle);
    await evictProfile(user.id, before?.handle ?? null, user.handle);
    return c.json({ user: toUserJson(user) }, 200);
  })
  .openapi(putPricing, async (c) => {
    const p = c.req.valid("json");
    // Prices must fit the contracts (registry uint96); MAX_PRICE may set a lower cap.
    const max = config(c.env).maxPrice;
    const over = (["defaultPrice", "firstContactPrice"] as const).filter((k) => BigInt(p[k]) > max);
    if (over.length) {
      throw new ApiError(400, "invalid_request", `${over[0]}: at most ${max} base units.`, {
        issues: over.map((path) => ({ path, message: `at most ${max}` })),
      });
    }
    const { pricing, version } = await c.env.ACCOUNT.getByName(c.var.userId).setPricing({
      ...p,
      replyWindowHours: p.replyWindowHours ?? 72,
    });
    // The public copy profile pages read (worker/profile-cache.ts).
    await publishPricing(c.env, c.var.userId, pricing, version);
    return c.json({ pricing }, 200);
  })
  .openapi(putAllow, async (c) => {
    const sender = await senderId(c.env, c.req.valid("param").sender, c.var.userId);
    const { discountBps } = c.req.valid("json");
    await c.env.ACCOUNT.getByName(c.var.userId).setAllowlist(sender.id, discountBps);
    // Mirrored into the sender's Account, which works out their quotes (account/sender-quote.ts).
    await c.env.ACCOUNT.getByName(sender.id).setAllowedBy(c.var.userId, discountBps);
    return c.json({ entry: { sender: sender.id, handle: sender.handle, discountBps } }, 200);
  })
  .openapi(deleteAllow, async (c) => {
    const sender = await senderId(c.env, c.req.valid("param").sender, c.var.userId);
    await c.env.ACCOUNT.getByName(c.var.userId).removeAllowlist(sender.id);
    await c.env.ACCOUNT.getByName(sender.id).setAllowedBy(c.var.userId, null);
    return c.body(null, 204);
  })
  .openapi(putBlock, async (c) => {
    const sender = await senderId(c.env, c.req.valid("param").sender, c.var.userId);
    const changed = await c.env.ACCOUNT.getByName(c.var.userId).setBlocked(sender.id, true);
    if (changed) complain(c.env, c.executionCtx, sender.id, c.var.userId, "block");
    return c.body(null, 204);
  })
  .openapi(postAllow, async (c) => {
    const { phone, discountBps } = c.req.valid("json");
    const sender = await senderByPhone(c.env, phone, c.var.userId);
    await c.env.ACCOUNT.getByName(c.var.userId).setAllowlist(sender.id, discountBps);
    await c.env.ACCOUNT.getByName(sender.id).setAllowedBy(c.var.userId, discountBps);
    return c.json({ entry: { sender: sender.id, handle: sender.handle, discountBps } }, 200);
  })
  .openapi(postBlock, async (c) => {
    const sender = await senderByPhone(c.env, c.req.valid("json").phone, c.var.userId);
    const changed = await c.env.ACCOUNT.getByName(c.var.userId).setBlocked(sender.id, true);
    if (changed) complain(c.env, c.executionCtx, sender.id, c.var.userId, "block");
    return c.json({ entry: { sender: sender.id, handle: sender.handle } }, 200);
  })
  .openapi(deleteBlock, async (c) => {
    const sender = await senderId(c.env, c.req.valid("param").sender, c.var.userId);
    await c.env.ACCOUNT.getByName(c.var.userId).setBlocked(sender.id, false);
    return c.body(null, 204);
  });
