// Browser sessions. The web UI keeps its access token in memory only; the
// refresh token lives in an HttpOnly, SameSite=Strict cookie (Secure except on
// localhost) that page script can never read, scoped to exactly the two paths
// that use it. API clients keep today's JSON tokens: a sign-in answers with a
// cookie only when the request says `X-Session: cookie`.
//
// CSRF: the only cookie-authenticated call is the refresh (logout also needs the
// Bearer token). A cross-site page cannot send the custom header without a CORS
// preflight this app never allows, SameSite=Strict keeps the cookie off cross-site
// requests, and a present Origin / Sec-Fetch-Site must be this app's own.
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { config } from "../config";
import { ApiError } from "../http/errors";
import type { AppEnv } from "../http/router";
import { appOrigin } from "../identity/config";

export const SESSION_HEADER = "x-session";
export const REFRESH_COOKIE = "pi_refresh";
/** Each path gets its own copy of the cookie, so no other route ever sees it. */
export const REFRESH_COOKIE_PATHS = ["/v1/auth/refresh", "/v1/auth/logout"] as const;

export const wantsCookieSession = (c: Context<AppEnv>) => c.req.header(SESSION_HEADER) === "cookie";

function isLocalhost(origin: string): boolean {
  const host = new URL(origin).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]";
}

/** Refuses a cookie-authenticated call that did not come from this app's own pages. */
function assertSameOrigin(c: Context<AppEnv>): void {
  const origin = c.req.header("origin");
  const site = c.req.header("sec-fetch-site");
  const own = appOrigin(c.env, c.req.url);
  if ((origin && origin !== own) || (site && site !== "same-origin")) {
    throw new ApiError(403, "csrf_refused", "This request did not come from the app's own pages.");
  }
}

/**
 * Answers a sign-in. In cookie mode the refresh token goes into the cookie and
 * is left out of the JSON body; otherwise the body carries it as before.
 */
export function deliverSession<T extends { refreshToken: string }>(
  c: Context<AppEnv>,
  session: T,
): T | Omit<T, "refreshToken"> {
  if (!wantsCookieSession(c)) return session;
  assertSameOrigin(c);
  const origin = appOrigin(c.env, c.req.url);
  for (const path of REFRESH_COOKIE_PATHS) {
    setCookie(c, REFRESH_COOKIE, session.refreshToken, {
      path,
      httpOnly: true,
      sameSite: "Strict",
      secure: !isLocalhost(origin),
      maxAge: Math.floor(config(c.env).refreshTokenTtlMs / 1000),
    });
  }
  const { refreshToken: _, ...rest } = session;
  return rest;
}

/** The refresh token a cookie-mode request carries (CSRF-checked), or undefined. */
export function cookieRefreshToken(c: Context<AppEnv>): string | undefined {
  if (!wantsCookieSession(c)) return undefined;
  assertSameOrigin(c);
  return getCookie(c, REFRESH_COOKIE) || undefined;
}

export function clearSessionCookies(c: Context<AppEnv>): void {
  const secure = !isLocalhost(appOrigin(c.env, c.req.url));
  for (const path of REFRESH_COOKIE_PATHS) {
    deleteCookie(c, REFRESH_COOKIE, { path, secure, httpOnly: true, sameSite: "Strict" });
  }
}
