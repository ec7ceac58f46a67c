// Per request: a request id (Cloudflare's cf-ray when present, else a random
// one) in the X-Request-Id header, one structured access-log line and one
// Analytics Engine data point. The route is the matched PATTERN, never the raw
// path, and the user id is hashed (see worker/observability/log.ts).
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { AppEnv } from "../http/router";
import { bump, maybeFlush } from "../observability/counters";
import { hashUserId, log, metric } from "../observability/log";

export const observe = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  const requestId = c.req.header("cf-ray") ?? crypto.randomUUID();
  c.header("X-Request-Id", requestId);
  try {
    await next();
  } finally {
    const status = c.res.status;
    // The route whose handler ran last (c.req.routeIndex): the handler's pattern. Catch-alls
    // (middleware only, or the web UI's GET *) are reported as unmatched.
    const last = routePath(c);
    const route = last === "/*" || last === "*" || last === "" ? "(unmatched)" : last;
    const latencyMs = Date.now() - started;
    const userId = c.get("userId");
    log(status >= 500 ? "error" : "info", "request", {
      requestId,
      method: c.req.method,
      route,
      status,
      latencyMs,
      user: userId ? hashUserId(userId) : null,
      error: c.get("errorCode") ?? null,
    });
    metric(c.env, { kind: "request", label: `${c.req.method} ${route}`, status, latencyMs });
    bump("requests");
    if (status >= 500) bump("errors_5xx");
    else if (status >= 400) bump("errors_4xx");
    try {
      maybeFlush(c.env, c.executionCtx);
    } catch {
      // No execution context (app.request in unit tests): the next request flushes.
    }
  }
});
