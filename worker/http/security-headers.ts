// Security headers on every Worker answer, and the one content security policy
// (frontend/public/_headers carries the same policy for the static web UI, which
// the Worker does not serve; test/security-headers.test.ts keeps the two equal).
//
// The web UI is Vite-built module scripts and stylesheets from our own origin: no
// inline scripts, no third-party origins. To loosen the policy for one route, add
// it to ROUTE_CSP, or set a Content-Security-Policy header in the handler (as the
// API reference page does): an answer that already has one keeps it.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./router";

export type CspDirectives = Record<string, string[]>;

export const CSP_DIRECTIVES: CspDirectives = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  "style-src": ["'self'"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'"],
  "connect-src": ["'self'"],
  "object-src": ["'none'"],
  "base-uri": ["'none'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
};

export function cspOf(directives: CspDirectives): string {
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(" ")}`)
    .join("; ");
}

export const CONTENT_SECURITY_POLICY = cspOf(CSP_DIRECTIVES);

/**
 * Route-specific policies, by exact path. (/docs sets its own, with a per-page
 * script nonce: worker/http/docs.ts.)
 */
export const ROUTE_CSP: Record<string, string> = {};

/** Headers every answer carries (also in frontend/public/_headers for the static UI). */
export const STATIC_SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

export const HSTS = "max-age=31536000; includeSubDomains";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const h = c.res.headers;
  const url = new URL(c.req.url);
  if (!h.has("Content-Security-Policy")) {
    h.set("Content-Security-Policy", ROUTE_CSP[url.pathname] ?? CONTENT_SECURITY_POLICY);
  }
  for (const [name, value] of Object.entries(STATIC_SECURITY_HEADERS)) h.set(name, value);
  // Browsers ignore HSTS over plain http anyway; leaving it off loopback keeps local dev simple.
  if (!LOOPBACK.has(url.hostname)) h.set("Strict-Transport-Security", HSTS);
  // API answers carry balances, messages and tokens: never stored by a browser or a proxy.
  if (url.pathname.startsWith("/v1/")) h.set("Cache-Control", "no-store");
});
