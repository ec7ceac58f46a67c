// Sign-in with a one-time code by email or SMS (mounted at /v1/auth/code).
import { createRoute, z } from "@hono/zod-openapi";
import { deliverSession } from "../auth/cookie-session";
import { deviceOf } from "../auth/device";
import { issueSession } from "../auth/sessions";
import { unauthorized } from "../http/errors";
import { createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { finishCodeSignIn, startCodeSignIn } from "../identity/otp-sign-in";
import { clientIp } from "../identity/rate-limit";
import { findUser, toUserJson } from "../users";
import { SessionSchema } from "./schemas";

const tag = ["Auth"];

const startRoute = createRoute({
  method: "post",
  path: "/start",
  tags: tag,
  summary: "Send a 6-digit sign-in code to an email address or an E.164 phone number",
  description:
    "Signs in the account whose verified contact this is, or creates one. Codes expire after 10 minutes and " +
    "allow 5 attempts; resend cooldown and daily caps as for verification (429 rate_limited with Retry-After).",
  request: {
    body: jsonBody(
      z.object({
        channel: z.enum(["email", "phone"]),
        target: z.string().min(3).max(320).openapi({ example: "ada@example.com" }),
      }),
    ),
  },
  responses: {
    202: jsonResponse(
      z.object({ challengeId: z.string(), expiresAt: z.string().openapi({ format: "date-time" }) }),
      "Code sent",
    ),
    ...errors(400, 429, 502, 503),
  },
});

const verifyRoute = createRoute({
  method: "post",
  path: "/verify",
  tags: tag,
  summary: "Sign in with the code",
  description:
    "Wrong code → 400 invalid_code {attemptsLeft}; expired or used → 410 expired; after 5 tries → 429 too_many_attempts.",
  request: {
    body: jsonBody(
      z.object({
        challengeId: z.string().min(1).max(100),
        code: z.string().regex(/^\d{6}$/, "must be 6 digits"),
      }),
    ),
  },
  responses: {
    200: jsonResponse(SessionSchema.extend({ created: z.boolean() }), "Signed in"),
    ...errors(400, 401, 404, 410, 429),
  },
});

export const codeSignInRoutes = createRouter()
  .openapi(startRoute, async (c) => {
    const { channel, target } = c.req.valid("json");
    const out = await startCodeSignIn(c.env, { channel, target, ip: clientIp(c.req) });
    return c.json({ challengeId: out.challengeId, expiresAt: new Date(out.expiresAt).toISOString() }, 202);
  })
  .openapi(verifyRoute, async (c) => {
    const { challengeId, code } = c.req.valid("json");
    const { userId, created } = await finishCodeSignIn(c.env, challengeId, code);
    const user = await findUser(c.env, userId);
    if (!user) throw unauthorized();
    const session = {
      ...(await issueSession(c.env, userId, deviceOf(c.req.header("user-agent")))),
      user: toUserJson(user),
      created,
    };
    return c.json(deliverSession(c, session), 200);
  });
