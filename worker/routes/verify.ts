// Email and phone verification with one-time codes (mounted at /v1/verify).
import { createRoute, z } from "@hono/zod-openapi";
import { bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { confirmVerification, requestVerification } from "../identity/otp";
import { clientIp } from "../identity/rate-limit";
import { requireUser } from "../middleware/auth";

const tag = ["Verification"];

const requestRoute = createRoute({
  method: "post",
  path: "/request",
  tags: tag,
  summary: "Send a 6-digit code to an email address or an E.164 phone number",
  description:
    "Codes expire after 10 minutes and allow 5 attempts. A user can have one code sent to a target per " +
    "OTP_RESEND_COOLDOWN_SECONDS; per-target and per-IP daily caps apply (429 rate_limited with Retry-After).",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: {
    body: jsonBody(
      z.object({
        channel: z.enum(["email", "phone"]),
        target: z.string().min(3).max(320).openapi({ example: "+14155550123" }),
      }),
    ),
  },
  responses: {
    202: jsonResponse(
      z.object({ verificationId: z.string(), expiresAt: z.string().openapi({ format: "date-time" }) }),
      "Code sent",
    ),
    ...errors(400, 401, 429, 502, 503),
  },
});

const confirmRoute = createRoute({
  method: "post",
  path: "/confirm",
  tags: tag,
  summary: "Confirm a code; marks the email or phone verified on the caller",
  description:
    "Wrong code → 400 invalid_code {attemptsLeft}; expired or used → 410 expired; after 5 wrong codes → " +
    "429 too_many_attempts. A phone or email verified here is taken away from any other user who had verified it.",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: {
    body: jsonBody(
      z.object({
        verificationId: z.string().min(1).max(100),
        code: z.string().regex(/^\d{6}$/, "must be 6 digits"),
      }),
    ),
  },
  responses: {
    200: jsonResponse(z.object({ channel: z.enum(["email", "phone"]), verified: z.literal(true) }), "Verified"),
    ...errors(400, 401, 404, 410, 429),
  },
});

export const verifyRoutes = createRouter()
  .openapi(requestRoute, async (c) => {
    const { channel, target } = c.req.valid("json");
    const out = await requestVerification(c.env, { userId: c.var.userId, channel, target, ip: clientIp(c.req) });
    return c.json({ verificationId: out.verificationId, expiresAt: new Date(out.expiresAt).toISOString() }, 202);
  })
  .openapi(confirmRoute, async (c) => {
    const { verificationId, code } = c.req.valid("json");
    const { channel } = await confirmVerification(c.env, c.var.userId, verificationId, code);
    return c.json({ channel, verified: true as const }, 200);
  });
