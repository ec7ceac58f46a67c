// Social sign-in routes (mounted at /v1/auth/oauth). A provider is offered only
// when its client id and secret are configured. Browser flows are bound to the
// browser that started them with an HttpOnly state cookie (so nobody can make a
// victim's browser finish a sign-in or a link that someone else started); API
// clients ask for JSON with `Accept: application/json` and get the session directly.

import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { recordSignup } from "../abuse";
import { deliverSession } from "../auth/cookie-session";
import { timingSafeEqual } from "../auth/crypto";
import { deviceOf } from "../auth/device";
import { issueSession } from "../auth/sessions";
import { ApiError, notFound, unauthorized } from "../http/errors";
import { type AppEnv, bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { appOrigin, identityConfig, type OAuthProviderConfig, type OAuthProviderId } from "../identity/config";
import {
  completeAuthorization,
  createExchangeCode,
  OAUTH_STATE_TTL_MS,
  redeemExchangeCode,
  startAuthorization,
} from "../identity/oauth";
import { requireUser } from "../middleware/auth";
import { findUser, toUserJson } from "../users";
import { SessionSchema } from "./schemas";

const tag = ["Auth"];
const STATE_COOKIE = "pi_oauth_state";
const COOKIE_PATH = "/v1/auth/oauth";

const ProviderParam = z.object({
  provider: z.enum(["google", "github"]).openapi({ param: { name: "provider", in: "path" }, example: "github" }),
});

function providerOr404(env: Env, id: OAuthProviderId): OAuthProviderConfig {
  const p = identityConfig(env).oauth[id];
  if (!p) throw notFound("not_found", `Sign-in with ${id} is not offered here.`);
  return p;
}

function bindStateCookie(c: Context<AppEnv>, authorizeUrl: string) {
  const state = new URL(authorizeUrl).searchParams.get("state") ?? "";
  setCookie(c, STATE_COOKIE, state, {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: "Lax",
    secure: appOrigin(c.env, c.req.url).startsWith("https:"),
    maxAge: OAUTH_STATE_TTL_MS / 1000,
  });
}

const wantsJson = (c: Context<AppEnv>) => (c.req.header("accept") ?? "").includes("application/json");

const startRoute = createRoute({
  method: "get",
  path: "/{provider}/start",
  tags: tag,
  summary: "Start social sign-in: redirects to the provider (authorization code + PKCE S256)",
  request: { params: ProviderParam },
  responses: { 302: { description: "Redirect to the provider's authorize URL" }, ...errors(404) },
});

const linkStartRoute = createRoute({
  method: "post",
  path: "/{provider}/link-start",
  tags: tag,
  summary: "Start linking a social identity to the signed-in user; open the returned URL in the browser",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: ProviderParam },
  responses: {
    200: jsonResponse(z.object({ authorizeUrl: z.string() }), "The provider URL, bound to the caller"),
    ...errors(401, 404),
  },
});

const callbackRoute = createRoute({
  method: "get",
  path: "/{provider}/callback",
  tags: tag,
  summary: "Provider redirect target: exchanges the code, signs in (or links) and answers with a session",
  description:
    "With `Accept: application/json` answers like siwe/verify. Otherwise redirects the web UI to " +
    "`/#/signed-in?code=<one-time code>` (trade it at POST /v1/auth/oauth/exchange). Bad or reused state, " +
    "or a code the provider refuses → 401; an identity already linked to another user → 409 identity_taken.",
  request: {
    params: ProviderParam,
    query: z.object({
      code: z.string().max(2048).optional(),
      state: z.string().max(256).optional(),
      error: z.string().max(256).optional(),
    }),
  },
  responses: {
    200: jsonResponse(SessionSchema.extend({ created: z.boolean(), linked: z.boolean() }), "Signed in (JSON clients)"),
    302: { description: "Redirect to the web UI with a one-time code" },
    ...errors(400, 401, 404, 409, 502),
  },
});

const exchangeRoute = createRoute({
  method: "post",
  path: "/exchange",
  tags: tag,
  summary: "Trade the one-time code from the web redirect for a session (single use, 2 minutes)",
  description:
    "Same-origin `fetch` from the page the redirect opened, with credentials (the default): the HttpOnly state " +
    "cookie of the browser that started the sign-in must come along, or the code is refused (401).",
  request: { body: jsonBody(z.object({ code: z.string().min(1).max(200) })) },
  responses: { 200: jsonResponse(SessionSchema, "Signed in"), ...errors(400, 401) },
});

async function sessionFor(env: Env, userId: string, device: string | null) {
  const user = await findUser(env, userId);
  if (!user) throw unauthorized();
  return { ...(await issueSession(env, userId, device)), user: toUserJson(user) };
}

export const oauthRoutes = createRouter()
  .openapi(startRoute, async (c) => {
    const provider = providerOr404(c.env, c.req.valid("param").provider);
    const url = await startAuthorization(c.env, appOrigin(c.env, c.req.url), provider, null);
    bindStateCookie(c, url);
    return c.redirect(url, 302);
  })
  .openapi(linkStartRoute, async (c) => {
    const provider = providerOr404(c.env, c.req.valid("param").provider);
    const url = await startAuthorization(c.env, appOrigin(c.env, c.req.url), provider, c.var.userId);
    bindStateCookie(c, url);
    return c.json({ authorizeUrl: url }, 200);
  })
  .openapi(callbackRoute, async (c) => {
    const provider = providerOr404(c.env, c.req.valid("param").provider);
    const { code, state, error } = c.req.valid("query");
    if (error) throw new ApiError(400, "oauth_denied", "The provider did not authorize the sign-in.");
    if (!state) throw unauthorized("Missing or invalid OAuth state.");
    if (!code) throw new ApiError(400, "invalid_request", "code is required.");
    const json = wantsJson(c);
    if (!json) {
      // A browser must present the state cookie set when this browser started the flow.
      // The cookie stays until the exchange, which it binds to this browser too.
      const cookie = getCookie(c, STATE_COOKIE) ?? "";
      if (!timingSafeEqual(cookie, state)) throw unauthorized("This sign-in was started in another browser.");
    }
    const outcome = await completeAuthorization(c.env, provider, code, state);
    if (!outcome.ok) {
      if (outcome.reason === "identity_taken") {
        throw new ApiError(409, "identity_taken", "That account is already linked to another user.");
      }
      if (outcome.reason === "provider_error") {
        throw new ApiError(502, "oauth_provider_error", `${provider.id} did not answer as expected.`);
      }
      throw unauthorized(
        outcome.reason === "bad_state" ? "Missing, unknown or reused OAuth state." : "The provider refused the code.",
      );
    }
    if (outcome.created) await recordSignup(c.env, outcome.userId, c.req);
    if (json) {
      const s = await sessionFor(c.env, outcome.userId, deviceOf(c.req.header("user-agent")));
      return c.json({ ...s, created: outcome.created, linked: outcome.linked }, 200);
    }
    const oneTime = await createExchangeCode(c.env, outcome.userId, state);
    return c.redirect(`${appOrigin(c.env, c.req.url)}/#/signed-in?code=${encodeURIComponent(oneTime)}`, 302);
  })
  .openapi(exchangeRoute, async (c) => {
    // Only the browser that started the flow holds its state cookie: a code sent to
    // someone else in a link (to sign them into the sender's account) is refused.
    const cookie = getCookie(c, STATE_COOKIE);
    deleteCookie(c, STATE_COOKIE, { path: COOKIE_PATH });
    const userId = cookie ? await redeemExchangeCode(c.env, c.req.valid("json").code, cookie) : null;
    if (!userId) throw unauthorized("The sign-in code is invalid, expired or already used.");
    return c.json(deliverSession(c, await sessionFor(c.env, userId, deviceOf(c.req.header("user-agent")))), 200);
  });
