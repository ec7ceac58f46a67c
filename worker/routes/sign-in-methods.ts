// What the settings screen lists (mounted at /v1/me): the caller's sign-in
// methods (wallet, passkeys, social identities) with passkey removal, and the
// senders on their allowlist and blocklist.
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, inArray } from "drizzle-orm";
import { db } from "../db/client";
import { oauthIdentities, passkeyCredentials, users } from "../db/schema";
import { ApiError, notFound } from "../http/errors";
import { bearerAuth, createRouter, errors, jsonResponse } from "../http/router";
import { requireUser } from "../middleware/auth";
import { findUser } from "../users";

const tag = ["Me"];
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const Passkey = z
  .object({
    id: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    deviceType: z.string().nullable(),
    backedUp: z.boolean(),
  })
  .openapi("Passkey");

const methodsRoute = createRoute({
  method: "get",
  path: "/sign-in-methods",
  tags: tag,
  summary: "Your wallet, passkeys and linked social accounts",
  security: bearerAuth,
  middleware: [requireUser] as const,
  responses: {
    200: jsonResponse(
      z.object({
        walletAddress: z.string().nullable(),
        passkeys: z.array(Passkey),
        oauth: z.array(z.object({ provider: z.string(), createdAt: z.string() })),
      }),
      "Sign-in methods",
    ),
    ...errors(401),
  },
});

const removePasskeyRoute = createRoute({
  method: "delete",
  path: "/passkeys/{id}",
  tags: tag,
  summary: "Remove one of your passkeys (not your only way to sign in)",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: z.object({ id: z.string().min(1).max(1400) }) },
  responses: { 204: { description: "Removed" }, ...errors(401, 404, 409) },
});

const sendersRoute = createRoute({
  method: "get",
  path: "/senders",
  tags: tag,
  summary: "Senders on your allowlist (with their discount) and on your blocklist",
  security: bearerAuth,
  middleware: [requireUser] as const,
  responses: {
    200: jsonResponse(
      z.object({
        allowlist: z.array(z.object({ sender: z.string(), handle: z.string().nullable(), discountBps: z.number() })),
        blocklist: z.array(z.object({ sender: z.string(), handle: z.string().nullable() })),
      }),
      "Allowlist and blocklist",
    ),
    ...errors(401),
  },
});

async function passkeysOf(env: Env, userId: string) {
  return db(env).select().from(passkeyCredentials).where(eq(passkeyCredentials.userId, userId));
}

export const signInMethodRoutes = createRouter()
  .openapi(methodsRoute, async (c) => {
    const [user, keys, social] = await Promise.all([
      findUser(c.env, c.var.userId),
      passkeysOf(c.env, c.var.userId),
      db(c.env).select().from(oauthIdentities).where(eq(oauthIdentities.userId, c.var.userId)),
    ]);
    if (!user) throw notFound("not_found", "User not found.");
    return c.json(
      {
        walletAddress: user.walletAddress,
        passkeys: keys.map((k) => ({
          id: k.id,
          createdAt: iso(k.createdAt) as string,
          lastUsedAt: iso(k.lastUsedAt),
          deviceType: k.deviceType,
          backedUp: k.backedUp,
        })),
        oauth: social.map((o) => ({ provider: o.provider, createdAt: iso(o.createdAt) as string })),
      },
      200,
    );
  })
  .openapi(removePasskeyRoute, async (c) => {
    const { id } = c.req.valid("param");
    const [user, keys, social] = await Promise.all([
      findUser(c.env, c.var.userId),
      passkeysOf(c.env, c.var.userId),
      db(c.env).select().from(oauthIdentities).where(eq(oauthIdentities.userId, c.var.userId)),
    ]);
    if (!keys.some((k) => k.id === id)) throw notFound("not_found", "No such passkey on your account.");
    const others = keys.length - 1 + social.length + (user?.walletAddress ? 1 : 0);
    if (others === 0) {
      throw new ApiError(409, "last_sign_in_method", "This passkey is your only way to sign in; add another first.");
    }
    await db(c.env)
      .delete(passkeyCredentials)
      .where(and(eq(passkeyCredentials.id, id), eq(passkeyCredentials.userId, c.var.userId)));
    return c.body(null, 204);
  })
  .openapi(sendersRoute, async (c) => {
    const lists = await c.env.ACCOUNT.getByName(c.var.userId).senderLists();
    const ids = [...lists.allowlist.map((a) => a.userId), ...lists.blocklist.map((b) => b.userId)];
    const handles = new Map<string, string | null>();
    // D1 caps bound parameters per statement at 100.
    for (let i = 0; i < ids.length; i += 90) {
      const rows = await db(c.env)
        .select({ id: users.id, handle: users.handle })
        .from(users)
        .where(inArray(users.id, ids.slice(i, i + 90)));
      for (const r of rows) handles.set(r.id, r.handle);
    }
    return c.json(
      {
        allowlist: lists.allowlist.map((a) => ({
          sender: a.userId,
          handle: handles.get(a.userId) ?? null,
          discountBps: a.discountBps,
        })),
        blocklist: lists.blocklist.map((b) => ({ sender: b.userId, handle: handles.get(b.userId) ?? null })),
      },
      200,
    );
  });
