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
): Promise<{ ok: boolean; retryAfterSeconds: number }> {
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
 * Per-IP limit (LOOKUP_IP_PER_MINUTE) on anonymous lookups. Requests that carry an
 * Authorization header pass through (the route's own auth decides whether it is valid).
 * Mount it on GET /v1/recipients/:selector.
 */
export const limitAnonymousLookups = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.req.header("authorization")) {
    const limit = identityConfig(c.env).lookupIpPerMinute;
    const res = await hit(c.env, `lookup-ip:${clientIp(c.req)}`, limit, 60_000);
    if (!res.ok) throw rateLimited(res.retryAfterSeconds, "Too many lookups; sign in or try again later.");
  }
  await next();
});
