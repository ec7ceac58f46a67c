// Passkeys (WebAuthn) with @simplewebauthn/server. Challenges live in
// auth_challenges and are claimed with one conditional UPDATE … RETURNING before
// anything else (single use even under races), and expire after 5 minutes.
// Registration either creates a new account or, when the options were asked for
// with a Bearer token, adds a passkey to that user (the verify must come from
// the same user). Sign-in uses discoverable credentials: no username first.

import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { decodeClientDataJSON, isoBase64URL } from "@simplewebauthn/server/helpers";
import { and, eq, isNull } from "drizzle-orm";
import { base64url, randomId } from "../auth/crypto";
import { db, isUniqueViolation } from "../db/client";
import { authChallenges, passkeyCredentials, users } from "../db/schema";
import { bump } from "../observability/counters";
import { fromBase64 } from "./pii";

export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60 * 1000;

export interface RelyingParty {
  rpId: string;
  rpName: string;
  origin: string;
}

export type PasskeyFailure =
  | "malformed"
  | "unknown_or_used_challenge"
  | "expired"
  | "wrong_user"
  | "unknown_credential"
  | "credential_exists"
  | "verification_failed";

type Outcome<T> = ({ ok: true } & T) | { ok: false; reason: PasskeyFailure };

function challengeOf(clientDataJSON: string): string | null {
  try {
    const c = decodeClientDataJSON(clientDataJSON).challenge;
    return typeof c === "string" && c.length > 0 && c.length <= 200 ? c : null;
  } catch {
    return null;
  }
}

async function claimChallenge(env: Env, id: string, kind: "passkey_register" | "passkey_login") {
  const now = Date.now();
  const [row] = await db(env)
    .update(authChallenges)
    .set({ usedAt: now })
    .where(and(eq(authChallenges.id, id), eq(authChallenges.kind, kind), isNull(authChallenges.usedAt)))
    .returning();
  if (!row) return { ok: false as const, reason: "unknown_or_used_challenge" as const };
  if (row.expiresAt <= now) return { ok: false as const, reason: "expired" as const };
  return { ok: true as const, row };
}

export async function registrationOptions(
  env: Env,
  rp: RelyingParty,
  signedInUserId: string | null,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const d = db(env);
  let userId = randomId("u");
  let userName = "Paid Inbox account";
  let exclude: { id: string; transports?: string[] }[] = [];
  if (signedInUserId) {
    userId = signedInUserId;
    const user = await d.query.users.findFirst({ where: eq(users.id, signedInUserId) });
    userName = user?.handle ?? user?.displayName ?? userName;
    const creds = await d.query.passkeyCredentials.findMany({ where: eq(passkeyCredentials.userId, signedInUserId) });
    exclude = creds.map((c) => ({ id: c.id, transports: c.transports ? JSON.parse(c.transports) : undefined }));
  }
  const options = await generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpId,
    userName,
    userID: Uint8Array.from(new TextEncoder().encode(userId)),
    attestationType: "none",
    excludeCredentials: exclude,
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
  await d.insert(authChallenges).values({
    id: options.challenge,
    kind: "passkey_register",
    subject: signedInUserId,
    payload: JSON.stringify({ userId, newUser: !signedInUserId }),
    expiresAt: Date.now() + PASSKEY_CHALLENGE_TTL_MS,
  });
  return options;
}

export async function verifyRegistration(
  env: Env,
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  callerUserId: string | null,
): Promise<Outcome<{ userId: string; credentialId: string; created: boolean }>> {
  const challenge = challengeOf(response.response.clientDataJSON);
  if (!challenge) return { ok: false, reason: "malformed" };
  const claimed = await claimChallenge(env, challenge, "passkey_register");
  if (!claimed.ok) return claimed;
  // A challenge issued to a signed-in user only completes for that same user.
  if (claimed.row.subject && claimed.row.subject !== callerUserId) return { ok: false, reason: "wrong_user" };
  const { userId, newUser } = JSON.parse(claimed.row.payload ?? "{}") as { userId: string; newUser: boolean };

  let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    info = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      requireUserVerification: true,
    });
  } catch {
    return { ok: false, reason: "verification_failed" };
  }
  if (!info.verified) return { ok: false, reason: "verification_failed" };
  const { credential, credentialDeviceType, credentialBackedUp } = info.registrationInfo;

  const d = db(env);
  const insertCredential = d.insert(passkeyCredentials).values({
    id: credential.id,
    userId,
    publicKey: base64url(credential.publicKey),
    counter: credential.counter,
    transports: credential.transports ? JSON.stringify(credential.transports) : null,
    deviceType: credentialDeviceType,
    backedUp: credentialBackedUp,
  });
  try {
    if (newUser) {
      await d.batch([d.insert(users).values({ id: userId }), insertCredential]);
      bump("signups");
    } else await insertCredential;
  } catch (err) {
    if (isUniqueViolation(err)) return { ok: false, reason: "credential_exists" };
    throw err;
  }
  return { ok: true, userId, credentialId: credential.id, created: newUser };
}

export async function loginOptions(env: Env, rp: RelyingParty): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await generateAuthenticationOptions({ rpID: rp.rpId, userVerification: "required" });
  await db(env)
    .insert(authChallenges)
    .values({ id: options.challenge, kind: "passkey_login", expiresAt: Date.now() + PASSKEY_CHALLENGE_TTL_MS });
  return options;
}

export async function verifyLogin(
  env: Env,
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
): Promise<Outcome<{ userId: string; credentialId: string; counter: number }>> {
  const challenge = challengeOf(response.response.clientDataJSON);
  if (!challenge) return { ok: false, reason: "malformed" };
  const claimed = await claimChallenge(env, challenge, "passkey_login");
  if (!claimed.ok) return claimed;

  const d = db(env);
  const cred = await d.query.passkeyCredentials.findFirst({ where: eq(passkeyCredentials.id, response.id) });
  if (!cred) return { ok: false, reason: "unknown_credential" };
  const { userHandle } = response.response;
  if (userHandle && isoBase64URL.toUTF8String(userHandle) !== cred.userId) {
    return { ok: false, reason: "verification_failed" };
  }

  let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      credential: {
        id: cred.id,
        publicKey: fromBase64(cred.publicKey),
        counter: cred.counter,
        transports: cred.transports ? JSON.parse(cred.transports) : undefined,
      },
      requireUserVerification: true,
    });
  } catch {
    // Includes a sign counter that did not move forward (a possibly cloned authenticator).
    return { ok: false, reason: "verification_failed" };
  }
  if (!result.verified) return { ok: false, reason: "verification_failed" };
  const { newCounter, credentialBackedUp } = result.authenticationInfo;
  // Compare-and-set on the counter: of two racing sign-ins with the same counter value, one wins.
  const [updated] = await d
    .update(passkeyCredentials)
    .set({ counter: newCounter, backedUp: credentialBackedUp, lastUsedAt: Date.now() })
    .where(and(eq(passkeyCredentials.id, cred.id), eq(passkeyCredentials.counter, cred.counter)))
    .returning({ id: passkeyCredentials.id });
  if (!updated) return { ok: false, reason: "verification_failed" };
  return { ok: true, userId: cred.userId, credentialId: cred.id, counter: newCounter };
}
