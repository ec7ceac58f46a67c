import { createMiddleware } from "hono/factory";
import { sha256Hex, timingSafeEqual } from "../auth/crypto";
import { verifyAccess, verifyAccessToken } from "../auth/sessions";
import { ApiError, unauthorized } from "../http/errors";
import type { AppEnv } from "../http/router";

/** Requires `Authorization: Bearer <accessToken>`; sets c.var.userId (and sessionId: the token's session). */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const match = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i);
  const claims = match ? await verifyAccess(c.env, match[1]) : null;
  if (!claims) throw unauthorized();
  c.set("userId", claims.userId);
  c.set("sessionId", claims.sessionId);
  await next();
});

/** For public routes that answer more when signed in: a bad token is still 401. */
export const optionalUser = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  if (header) {
    const userId = await optionalUserId(header, c.env);
    if (!userId) throw unauthorized();
    c.set("userId", userId);
  }
  await next();
});

async function optionalUserId(header: string | undefined, env: Env): Promise<string | null> {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  if (!match) return null;
  return verifyAccessToken(env, match[1]);
}

/**
 * Requires `Authorization: Bearer $ADMIN_TOKEN` (ops and compliance routes).
 * Missing or wrong → 401; a valid user's access token → 403 (signed in, not
 * allowed). Both sides are hashed first, so the comparison takes the same time
 * whatever the length or content of the guess.
 */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const match = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i);
  if (!match) throw unauthorized("Admin token required.");
  if (!c.env.ADMIN_TOKEN) throw new ApiError(503, "misconfigured", "Server is missing required secrets: ADMIN_TOKEN.");
  if (!timingSafeEqual(await sha256Hex(match[1]), await sha256Hex(c.env.ADMIN_TOKEN))) {
    if (await verifyAccessToken(c.env, match[1]).catch(() => null)) {
      throw new ApiError(403, "forbidden", "This route needs the admin token, not a user's.");
    }
    throw unauthorized("Admin token required.");
  }
  await next();
});
