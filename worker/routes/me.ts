import { createRoute, z } from "@hono/zod-openapi";
import { notFound } from "../http/errors";
import { bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { requireUser } from "../middleware/auth";
import { findUser, toUserJson, updateProfile } from "../users";
import { UserSchema } from "./schemas";

const tag = ["Me"];

const PricingSchema = z
  .object({
    defaultPrice: z.string(),
    firstContactPrice: z.string(),
    returnDiscountBps: z.number().int(),
    settlement: z.enum(["instant", "on_reply"]),
    replyWindowHours: z.number().int().optional(),
  })
  .openapi("Pricing");

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
          displayName: z.string().trim().min(1).max(80).nullable().optional(),
          bio: z.string().max(500).nullable().optional(),
          discoverableByPhone: z.boolean().optional(),
          discoverableInSearch: z.boolean().optional(),
        })
        .strict(),
    ),
  },
  responses: { 200: jsonResponse(z.object({ user: UserSchema }), "Updated"), ...errors(400, 401, 409) },
});

export const meRoutes = createRouter()
  .openapi(getMe, async (c) => {
    const [user, account] = await Promise.all([
      findUser(c.env, c.var.userId),
      c.env.ACCOUNT.getByName(c.var.userId).summary(),
    ]);
    if (!user) throw notFound("not_found", "User not found.");
    return c.json({ user: toUserJson(user), ...account, channels: [] }, 200);
  })
  .openapi(putProfile, async (c) => {
    const user = await updateProfile(c.env, c.var.userId, c.req.valid("json"));
    return c.json({ user: toUserJson(user) }, 200);
  });
