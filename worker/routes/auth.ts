import { createRoute, z } from "@hono/zod-openapi";
import { isAddress } from "viem";
import { recordSignup } from "../abuse";
import { clearSessionCookies, cookieRefreshToken, deliverSession, wantsCookieSession } from "../auth/cookie-session";
import { deviceOf } from "../auth/device";
import { issueSession, logout, rotateRefreshToken } from "../auth/sessions";
import { createChallenge, type SiweContext, verifyChallenge } from "../auth/siwe";
import { config } from "../config";
import { ApiError, unauthorized } from "../http/errors";
import { emptyBodyIsNoBody } from "../http/request";
import { bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { identityConfig } from "../identity/config";
import { otpProvider } from "../identity/providers";
import { requireUser } from "../middleware/auth";
import { findUser, toUserJson, upsertWalletUser } from "../users";
import { SessionSchema, SignedSiweSchema } from "./schemas";

const tag = ["Auth"];

function siweContext(env: Env, requestUrl: string): SiweContext {
  const cfg = config(env);
  return { origin: cfg.appOrigin ?? new URL(requestUrl).origin, chainId: cfg.chainId };
}

const providers = createRoute({
  method: "get",
  path: "/providers",
  tags: tag,
  summary: "Sign-in methods this deployment offers",
  responses: { 200: jsonResponse(z.object({ methods: z.array(z.string()) }), "Available methods") },
});

const siweChallenge = createRoute({
  method: "post",
  path: "/siwe/challenge",
  tags: tag,
  summary: "Get an EIP-4361 message to sign",
  request: {
    body: jsonBody(
      z.object({ address: z.string().refine((a) => isAddress(a, { strict: false }), "must be an EVM address") }),
    ),
  },
  responses: { 200: jsonResponse(z.object({ message: z.string() }), "The message to sign"), ...errors(400) },
});

const siweVerify = createRoute({
  method: "post",
  path: "/siwe/verify",
  tags: tag,
  summary: "Sign in with a signed EIP-4361 message",
  request: {
    body: jsonBody(SignedSiweSchema),
  },
  responses: { 200: jsonResponse(SessionSchema, "Signed in"), ...errors(400, 401) },
});

const refresh = createRoute({
  method: "post",
  path: "/refresh",
  tags: tag,
  summary: "Rotate a refresh token into a new token pair",
  description:
    "API clients send `{refreshToken}`. The web UI sends `X-Session: cookie` and an empty body: the refresh " +
    "token comes from its HttpOnly cookie and the new one goes back into it (same-origin requests only, else 403).",
  request: {
    body: { ...jsonBody(z.object({ refreshToken: z.string().min(1).max(200).optional() })), required: false },
  },
  responses: { 200: jsonResponse(SessionSchema, "New token pair"), ...errors(400, 401, 403) },
});

const logoutRoute = createRoute({
  method: "post",
  path: "/logout",
  tags: tag,
  summary: "Revoke the refresh-token family (or every session when no token is given)",
  security: bearerAuth,
  middleware: [requireUser, emptyBodyIsNoBody] as const,
  request: {
    body: { ...jsonBody(z.object({ refreshToken: z.string().max(200).optional() })), required: false },
  },
  responses: { 204: { description: "Signed out" }, ...errors(401) },
});

export const authRoutes = createRouter()
  .openapi(providers, (c) => {
    // Social providers are listed only when their client id and secret are configured.
    const oauth = Object.keys(identityConfig(c.env).oauth).map((p) => `oauth:${p}`);
    const codes = (["email", "phone"] as const).filter((ch) => otpProvider(c.env, ch)).map((ch) => `code:${ch}`);
    return c.json({ methods: ["siwe", "passkey", ...codes, ...oauth] }, 200);
  })
  .openapi(siweChallenge, async (c) => {
    const { address } = c.req.valid("json");
    const message = await createChallenge(c.env, siweContext(c.env, c.req.url), address as `0x${string}`);
    return c.json({ message }, 200);
  })
  .openapi(siweVerify, async (c) => {
    const { message, signature } = c.req.valid("json");
    const outcome = await verifyChallenge(c.env, siweContext(c.env, c.req.url), message, signature as `0x${string}`);
    if (!outcome.ok) throw new ApiError(401, "unauthorized", `Sign-in refused (${outcome.reason}).`);
    const { user, created } = await upsertWalletUser(c.env, outcome.address);
    if (created) await recordSignup(c.env, user.id, c.req);
    const pair = await issueSession(c.env, user.id, deviceOf(c.req.header("user-agent")));
    return c.json(deliverSession(c, { ...pair, user: toUserJson(user) }), 200);
  })
  .openapi(refresh, async (c) => {
    const presented = c.req.valid("json")?.refreshToken ?? cookieRefreshToken(c);
    if (!presented) throw unauthorized("No refresh token.");
    const outcome = await rotateRefreshToken(c.env, presented);
    const user = outcome.ok ? await findUser(c.env, outcome.userId) : undefined;
    if (!outcome.ok || !user) {
      if (wantsCookieSession(c)) clearSessionCookies(c);
      throw unauthorized("Refresh token is invalid, expired or already used.");
    }
    return c.json(deliverSession(c, { ...outcome.pair, user: toUserJson(user) }), 200);
  })
  .openapi(logoutRoute, async (c) => {
    // The body is optional; without a refresh token every session is signed out.
    // The web UI's token is its cookie (sent with `X-Session: cookie`); the cookie is cleared either way.
    const refreshToken = c.req.valid("json")?.refreshToken ?? cookieRefreshToken(c);
    await logout(c.env, c.var.userId, refreshToken);
    clearSessionCookies(c);
    return c.body(null, 204);
  });
