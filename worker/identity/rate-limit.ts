// Rate limits backed by the RateLimiter Durable Object (exact under concurrency),
// and the middleware that keeps the public directory from being enumerated.
import { createMiddleware } from "hono/factory";
import { ApiError } from "../http/errors";
import type { AppEnv } from "../http/router";
import { identityConfig } from "./config";

/** The client's IP as Cloudflare reports it ("local" when there is none, e.g. tests and wrangler dev). */
export function clientIp(req: { header(name: string): string | undefined }): string {
  return req.header("cf-connecting-ip")?.trim() || "local";
}

/** Counts one hit against `scope:key`; false (with seconds to wait) when the limit is reached. */
export async function hit(
  env: Env,
  name: string,
  limit: number,
  windowMs: number,
): Promise<{ ok: boolean; remaining: number; retryAfterSeconds: number }> {
  return env.RATE_LIMITER.getByName(name).hit(limit, windowMs);
}

export function rateLimited(retryAfterSeconds: number, message: string): ApiError {
  return new ApiError(
    429,
    "rate_limited",
    message,
    { retryAfterSeconds },
    { "Retry-After": String(retryAfterSeconds) },
  );
}

/**
 * Recipient lookups (the directory must not be enumerable, and accounts are
 * free): every lookup counts per IP (LOOKUP_IP_PER_MINUTE), signed in or not,
 * and a signed-in one also per user (LOOKUP_USER_PER_MINUTE). Mount after
 * optionalUser.
 */
export const limitLookups = createMiddleware<AppEnv>(async (c, next) => {
  const ic = identityConfig(c.env);
  const ip = await hit(c.env, `lookup-ip:${clientIp(c.req)}`, ic.lookupIpPerMinute, 60_000);
  if (!ip.ok) throw rateLimited(ip.retryAfterSeconds, "Too many lookups from this address; try again later.");
  const userId = c.get("userId");
  if (userId) {
    const user = await hit(c.env, `lookup-user:${userId}`, ic.lookupUserPerMinute, 60_000);
    if (!user.ok) throw rateLimited(user.retryAfterSeconds, "Too many lookups; try again later.");
  }
  await next();
});

/** A signed-in user's daily cap on phone lookups (PHONE_LOOKUP_USER_DAILY_CAP), on top of limitLookups. */
export async function countPhoneLookup(env: Env, userId: string | undefined): Promise<void> {
  if (!userId) return; // anonymous: the per-IP limit above
  const r = await hit(env, `phone-lookup-user:${userId}`, identityConfig(env).phoneLookupUserDailyCap, 86_400_000);
  if (!r.ok) throw rateLimited(r.retryAfterSeconds, "Daily limit on phone lookups reached.");
}
