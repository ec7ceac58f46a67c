// Passkey registration and sign-in (mounted at /v1/auth/passkey). Bodies and
// options are SimpleWebAuthn's JSON shapes; verify answers like siwe/verify.

import { createRoute, z } from "@hono/zod-openapi";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { recordSignup } from "../abuse";
import { deliverSession } from "../auth/cookie-session";
import { deviceOf } from "../auth/device";
import { issueSession } from "../auth/sessions";
import { ApiError, unauthorized } from "../http/errors";
import { bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { relyingParty } from "../identity/config";
import {
  loginOptions,
  type PasskeyFailure,
  registrationOptions,
  verifyLogin,
  verifyRegistration,
} from "../identity/passkeys";
import { optionalUser } from "../middleware/auth";
import { findUser, toUserJson } from "../users";
import { SessionSchema } from "./schemas";

const tag = ["Auth"];
const b64url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, "must be base64url");

const RegistrationResponse = z
  .object({
    id: b64url(1400),
    rawId: b64url(1400),
    type: z.literal("public-key"),
    response: z
      .object({
        clientDataJSON: b64url(20_000),
        attestationObject: b64url(60_000),
        transports: z.array(z.string().max(32)).max(10).optional(),
      })
      .passthrough(),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
    authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  })
  .openapi("PasskeyRegistrationResponse", { description: "RegistrationResponseJSON (navigator.credentials.create)" });

const AuthenticationResponse = z
  .object({
    id: b64url(1400),
    rawId: b64url(1400),
    type: z.literal("public-key"),
    response: z
      .object({
        clientDataJSON: b64url(20_000),
        authenticatorData: b64url(20_000),
        signature: b64url(2_000),
        userHandle: b64url(200).optional(),
      })
      .passthrough(),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
    authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  })
  .openapi("PasskeyAuthenticationResponse", { description: "AuthenticationResponseJSON (navigator.credentials.get)" });

const CreationOptions = z
  .object({ challenge: z.string(), rp: z.object({ id: z.string().optional(), name: z.string() }) })
  .passthrough()
  .openapi("PasskeyCreationOptions", { description: "PublicKeyCredentialCreationOptionsJSON" });
const RequestOptions = z
  .object({ challenge: z.string(), rpId: z.string().optional() })
  .passthrough()
  .openapi("PasskeyRequestOptions", { description: "PublicKeyCredentialRequestOptionsJSON" });

const registerOptionsRoute = createRoute({
  method: "post",
  path: "/register/options",
  tags: tag,
  summary: "Passkey creation options: a new account, or (with a Bearer token) another passkey for the caller",
  security: [{}, ...bearerAuth],
  middleware: [optionalUser] as const,
  responses: { 200: jsonResponse(CreationOptions, "Pass to navigator.credentials.create"), ...errors(401) },
});

const registerVerifyRoute = createRoute({
  method: "post",
  path: "/register/verify",
  tags: tag,
  summary: "Verify a new passkey; signs in (and creates the account for a public registration)",
  security: [{}, ...bearerAuth],
  middleware: [optionalUser] as const,
  request: { body: jsonBody(RegistrationResponse) },
  responses: {
    200: jsonResponse(SessionSchema.extend({ credentialId: z.string() }), "Registered and signed in"),
    ...errors(400, 401, 409),
  },
});

const loginOptionsRoute = createRoute({
  method: "post",
  path: "/login/options",
  tags: tag,
  summary: "Passkey sign-in options (discoverable credentials: no username needed)",
  responses: { 200: jsonResponse(RequestOptions, "Pass to navigator.credentials.get") },
});

const loginVerifyRoute = createRoute({
  method: "post",
  path: "/login/verify",
  tags: tag,
  summary: "Sign in with a passkey assertion",
  request: { body: jsonBody(AuthenticationResponse) },
  responses: { 200: jsonResponse(SessionSchema, "Signed in"), ...errors(400, 401) },
});

function refuse(reason: PasskeyFailure): never {
  if (reason === "malformed") throw new ApiError(400, "invalid_request", "clientDataJSON is not valid.");
  if (reason === "credential_exists")
    throw new ApiError(409, "credential_exists", "This passkey is already registered.");
  throw unauthorized(`Passkey refused (${reason}).`);
}

async function session(env: Env, userId: string, device: string | null) {
  const user = await findUser(env, userId);
  if (!user) throw unauthorized();
  return { ...(await issueSession(env, userId, device)), user: toUserJson(user) };
}

export const passkeyRoutes = createRouter()
  .openapi(registerOptionsRoute, async (c) => {
    const options = await registrationOptions(c.env, relyingParty(c.env, c.req.url), c.var.userId ?? null);
    return c.json(options, 200);
  })
  .openapi(registerVerifyRoute, async (c) => {
    const body = c.req.valid("json") as unknown as RegistrationResponseJSON;
    const outcome = await verifyRegistration(c.env, relyingParty(c.env, c.req.url), body, c.var.userId ?? null);
    if (!outcome.ok) refuse(outcome.reason);
    if (outcome.created) await recordSignup(c.env, outcome.userId, c.req);
    return c.json(
      deliverSession(c, {
        ...(await session(c.env, outcome.userId, deviceOf(c.req.header("user-agent")))),
        credentialId: outcome.credentialId,
      }),
      200,
    );
  })
  .openapi(loginOptionsRoute, async (c) => c.json(await loginOptions(c.env, relyingParty(c.env, c.req.url)), 200))
  .openapi(loginVerifyRoute, async (c) => {
    const body = c.req.valid("json") as unknown as AuthenticationResponseJSON;
    const outcome = await verifyLogin(c.env, relyingParty(c.env, c.req.url), body);
    if (!outcome.ok) refuse(outcome.reason);
    return c.json(deliverSession(c, await session(c.env, outcome.userId, deviceOf(c.req.header("user-agent")))), 200);
  });
