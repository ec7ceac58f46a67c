// Social sign-in (Google, GitHub): authorization code + PKCE (S256) + state.
// `state` is the id of an auth_challenges row (kind "oauth", 10 minutes, single
// use via conditional UPDATE) carrying the provider, the PKCE verifier and the
// redirect URI server-side; when it was created by a signed-in user (link-start)
// its subject is that user and the callback links instead of signing in.
// Provider URLs come from config, so tests run the whole flow over real HTTP
// against a local fake provider. Profile data other than the provider's stable
// subject id is not kept (no emails from providers: PII is only ever stored
// encrypted, and only after our own verification).

import { and, eq, isNull } from "drizzle-orm";
import { randomId, randomToken, sha256Hex } from "../auth/crypto";
import { claimPkceState, type PkcePayload, startPkce } from "../auth/pkce";
import { db, isUniqueViolation } from "../db/client";
import { authChallenges, oauthIdentities, users } from "../db/schema";
import { bump } from "../observability/counters";
import type { OAuthProviderConfig, OAuthProviderId } from "./config";

export const OAUTH_STATE_TTL_MS = 10 * 60 * 1000;
export const OAUTH_EXCHANGE_TTL_MS = 2 * 60 * 1000;

interface StatePayload extends PkcePayload {
  provider: OAuthProviderId;
}

export function callbackUrl(origin: string, provider: OAuthProviderId): string {
  return `${origin}/v1/auth/oauth/${provider}/callback`;
}

/** Creates a single-use state (bound to `linkUserId` when linking) and returns the provider's authorize URL. */
export async function startAuthorization(
  env: Env,
  origin: string,
  provider: OAuthProviderConfig,
  linkUserId: string | null,
): Promise<string> {
  const { url } = await startPkce(env, {
    kind: "oauth",
    subject: linkUserId,
    extra: { provider: provider.id },
    ttlMs: OAUTH_STATE_TTL_MS,
    authUrl: provider.authUrl,
    clientId: provider.clientId,
    redirectUri: callbackUrl(origin, provider.id),
    scope: provider.scope,
  });
  return url;
}

export type OAuthFailure = "bad_state" | "code_rejected" | "provider_error" | "identity_taken";
export type OAuthOutcome =
  | { ok: true; userId: string; created: boolean; linked: boolean }
  | { ok: false; reason: OAuthFailure };

async function exchangeCode(provider: OAuthProviderConfig, code: string, s: StatePayload): Promise<string | null> {
  const res = await fetch(provider.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: s.redirectUri,
      client_id: provider.clientId,
      client_secret: provider.clientSecret,
      code_verifier: s.verifier,
    }),
  });
  if (!res.ok) {
    await res.body?.cancel();
    return null;
  }
  // GitHub answers 200 with {error} for a bad or reused code.
  const body = (await res.json().catch(() => null)) as { access_token?: unknown } | null;
  return typeof body?.access_token === "string" && body.access_token ? body.access_token : null;
}

async function fetchSubject(provider: OAuthProviderConfig, accessToken: string): Promise<string | null> {
  const res = await fetch(provider.profileUrl, {
    headers: { authorization: `Bearer ${accessToken}`, accept: "application/json", "user-agent": "paid-inbox" },
  });
  if (!res.ok) {
    await res.body?.cancel();
    return null;
  }
  const body = (await res.json().catch(() => null)) as { sub?: unknown; id?: unknown } | null;
  const subject = provider.id === "google" ? body?.sub : body?.id;
  if (typeof subject === "string" && subject) return subject;
  if (typeof subject === "number" && Number.isSafeInteger(subject)) return String(subject);
  return null;
}

export async function completeAuthorization(
  env: Env,
  provider: OAuthProviderConfig,
  code: string,
  state: string,
): Promise<OAuthOutcome> {
  const d = db(env);
  const now = Date.now();
  // Claim the state first: a callback completes at most once.
  const claimed = await claimPkceState<StatePayload>(env, "oauth", state);
  if (!claimed) return { ok: false, reason: "bad_state" };
  const { payload } = claimed;
  if (payload.provider !== provider.id) return { ok: false, reason: "bad_state" };

  let subject: string | null;
  try {
    const accessToken = await exchangeCode(provider, code, payload);
    if (!accessToken) return { ok: false, reason: "code_rejected" };
    subject = await fetchSubject(provider, accessToken);
  } catch {
    return { ok: false, reason: "provider_error" };
  }
  if (!subject) return { ok: false, reason: "provider_error" };

  const identity = and(eq(oauthIdentities.provider, provider.id), eq(oauthIdentities.subject, subject));
  const linkUserId = claimed.subject;
  if (linkUserId) {
    const [inserted] = await d
      .insert(oauthIdentities)
      .values({ provider: provider.id, subject, userId: linkUserId, lastUsedAt: now })
      .onConflictDoNothing()
      .returning();
    if (inserted) return { ok: true, userId: linkUserId, created: false, linked: true };
    const existing = await d.query.oauthIdentities.findFirst({ where: identity });
    if (existing?.userId === linkUserId) return { ok: true, userId: linkUserId, created: false, linked: true };
    return { ok: false, reason: "identity_taken" };
  }

  const [existing] = await d.update(oauthIdentities).set({ lastUsedAt: now }).where(identity).returning();
  if (existing) return { ok: true, userId: existing.userId, created: false, linked: false };
  // First sign-in: user and identity in one transaction; a racing twin loses on the primary key.
  const userId = randomId("u");
  try {
    await d.batch([
      d.insert(users).values({ id: userId }),
      d.insert(oauthIdentities).values({ provider: provider.id, subject, userId, lastUsedAt: now }),
    ]);
    bump("signups");
    return { ok: true, userId, created: true, linked: false };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const winner = await d.query.oauthIdentities.findFirst({ where: identity });
    if (!winner) throw err;
    return { ok: true, userId: winner.userId, created: false, linked: false };
  }
}

/**
 * A one-time code the web UI trades for a session (so tokens never sit in a URL),
 * bound to the browser that started the flow: only the holder of its state cookie
 * can redeem it.
 */
export async function createExchangeCode(env: Env, userId: string, state: string): Promise<string> {
  const code = randomToken(32);
  await db(env)
    .insert(authChallenges)
    .values({
      id: await sha256Hex(code),
      kind: "oauth_exchange",
      subject: userId,
      payloadHash: await sha256Hex(`browser:${state}`),
      expiresAt: Date.now() + OAUTH_EXCHANGE_TTL_MS,
    });
  return code;
}

export async function redeemExchangeCode(env: Env, code: string, stateCookie: string): Promise<string | null> {
  const now = Date.now();
  const [row] = await db(env)
    .update(authChallenges)
    .set({ usedAt: now })
    .where(
      and(
        eq(authChallenges.id, await sha256Hex(code)),
        eq(authChallenges.kind, "oauth_exchange"),
        eq(authChallenges.payloadHash, await sha256Hex(`browser:${stateCookie}`)),
        isNull(authChallenges.usedAt),
      ),
    )
    .returning();
  if (!row || row.expiresAt <= now || !row.subject) return null;
  return row.subject;
}
