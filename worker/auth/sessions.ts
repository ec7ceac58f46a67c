// Sessions: a short-lived access JWT (jose, HS256) plus a rotating refresh token
// stored hashed. Rotating marks the old token; presenting a rotated (or revoked)
// token again revokes the whole family, so a stolen refresh token is good for at
// most one use before both parties are signed out.
//
// A family is what people call a session (one sign-in on one device): Settings
// lists the live ones and can revoke one. The access token names its family
// (`sid`) so the list can say which session is "this device".
import { and, desc, eq, gt, isNull } from "drizzle-orm";
import { jwtVerify, SignJWT } from "jose";
import { config } from "../config";
import { db } from "../db/client";
import { refreshTokens } from "../db/schema";
import { randomId, randomToken, sha256Hex } from "./crypto";

const ISSUER = "paid-inbox";
const AUDIENCE = "paid-inbox:api";

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

// Imported once per isolate: importing the HMAC key on every request is wasted work.
const keyCache = new Map<string, Promise<CryptoKey>>();
function signingKey(env: Env): Promise<CryptoKey> {
  let key = keyCache.get(env.JWT_SECRET);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(env.JWT_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    keyCache.set(env.JWT_SECRET, key);
  }
  return key;
}

export async function signAccessToken(env: Env, userId: string, sessionId?: string): Promise<string> {
  const ttl = config(env).accessTokenTtlSeconds;
  return new SignJWT(sessionId ? { sid: sessionId } : {})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`)
    .sign(await signingKey(env));
}

// Verified tokens, remembered until they expire: a client sends the same token
// with every request for up to 15 minutes, and re-verifying it each time is
// pure overhead. Only successes are cached, keyed by the whole token string.
const verified = new Map<string, { sub: string; sid: string | null; exp: number }>();
const VERIFIED_MAX = 10_000;

export interface AccessClaims {
  userId: string;
  /** The refresh family (session) the token was issued to; null for tokens from before sessions were named. */
  sessionId: string | null;
}

/** The user id of a valid access token, or null. */
export async function verifyAccessToken(env: Env, token: string): Promise<string | null> {
  return (await verifyAccess(env, token))?.userId ?? null;
}

export async function verifyAccess(env: Env, token: string): Promise<AccessClaims | null> {
  const now = Date.now() / 1000;
  const hit = verified.get(token);
  if (hit) {
    if (hit.exp > now) return { userId: hit.sub, sessionId: hit.sid };
    verified.delete(token);
    return null;
  }
  try {
    const { payload } = await jwtVerify(token, await signingKey(env), {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["HS256"],
    });
    if (typeof payload.sub !== "string" || typeof payload.exp !== "number") return null;
    const sid = typeof payload.sid === "string" ? payload.sid : null;
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value as string);
    verified.set(token, { sub: payload.sub, sid, exp: payload.exp });
    return { userId: payload.sub, sessionId: sid };
  } catch {
    return null;
  }
}

interface Family {
  familyId: string;
  device: string | null;
  sessionStartedAt: number;
}

async function insertRefreshToken(env: Env, userId: string, family: Family, at: number): Promise<string> {
  const token = randomToken(32);
  await db(env)
    .insert(refreshTokens)
    .values({
      tokenHash: await sha256Hex(token),
      userId,
      ...family,
      // Set here, to the millisecond: the newest token's creation is its session's "last used".
      createdAt: at,
      expiresAt: at + config(env).refreshTokenTtlMs,
    });
  return token;
}

/** A new session; `device` is the summary of the client that signed in (auth/device.ts). */
export async function issueSession(env: Env, userId: string, device: string | null): Promise<TokenPair> {
  const family = { familyId: randomId("fam"), device, sessionStartedAt: Date.now() };
  const [accessToken, refreshToken] = await Promise.all([
    signAccessToken(env, userId, family.familyId),
    insertRefreshToken(env, userId, family, family.sessionStartedAt),
  ]);
  return { accessToken, refreshToken, expiresIn: config(env).accessTokenTtlSeconds };
}

export async function revokeFamily(env: Env, familyId: string): Promise<void> {
  await db(env)
    .update(refreshTokens)
    .set({ revokedAt: Date.now() })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

export type RefreshOutcome = { ok: true; userId: string; pair: TokenPair } | { ok: false };

export async function rotateRefreshToken(env: Env, presented: string): Promise<RefreshOutcome> {
  const now = Date.now();
  const hash = await sha256Hex(presented);
  // Claim the token atomically: only one caller can move rotated_at from NULL.
  const [claimed] = await db(env)
    .update(refreshTokens)
    .set({ rotatedAt: now })
    .where(and(eq(refreshTokens.tokenHash, hash), isNull(refreshTokens.rotatedAt), isNull(refreshTokens.revokedAt)))
    .returning({
      userId: refreshTokens.userId,
      familyId: refreshTokens.familyId,
      expiresAt: refreshTokens.expiresAt,
      device: refreshTokens.device,
      sessionStartedAt: refreshTokens.sessionStartedAt,
      createdAt: refreshTokens.createdAt,
    });
  if (!claimed) {
    // Unknown, already rotated or revoked. A known token here is a replay:
    // revoke its family so whoever holds the newer token is signed out too.
    const known = await db(env).query.refreshTokens.findFirst({ where: eq(refreshTokens.tokenHash, hash) });
    if (known) await revokeFamily(env, known.familyId);
    return { ok: false };
  }
  if (claimed.expiresAt <= now) return { ok: false };
  const family = {
    familyId: claimed.familyId,
    device: claimed.device,
    sessionStartedAt: claimed.sessionStartedAt ?? claimed.createdAt,
  };
  const [accessToken, refreshToken] = await Promise.all([
    signAccessToken(env, claimed.userId, claimed.familyId),
    insertRefreshToken(env, claimed.userId, family, now),
  ]);
  return {
    ok: true,
    userId: claimed.userId,
    pair: { accessToken, refreshToken, expiresIn: config(env).accessTokenTtlSeconds },
  };
}

/** Logout: revoke the family of the presented refresh token (if it is the caller's). */
export async function logout(env: Env, userId: string, presented: string | undefined): Promise<void> {
  if (!presented) {
    // No token given: sign the user out everywhere.
    await db(env)
      .update(refreshTokens)
      .set({ revokedAt: Date.now() })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
    return;
  }
  const known = await db(env).query.refreshTokens.findFirst({
    where: eq(refreshTokens.tokenHash, await sha256Hex(presented)),
  });
  if (known && known.userId === userId) await revokeFamily(env, known.familyId);
}

export interface SessionInfo {
  id: string;
  device: string | null;
  createdAt: number;
  lastUsedAt: number;
}

/**
 * The user's live sessions, most recently used first: each family's one current
 * token (not rotated, not revoked, not expired). Token values are never read.
 */
export async function listSessions(env: Env, userId: string): Promise<SessionInfo[]> {
  const rows = await db(env)
    .select({
      id: refreshTokens.familyId,
      device: refreshTokens.device,
      startedAt: refreshTokens.sessionStartedAt,
      createdAt: refreshTokens.createdAt,
    })
    .from(refreshTokens)
    .where(
      and(
        eq(refreshTokens.userId, userId),
        isNull(refreshTokens.rotatedAt),
        isNull(refreshTokens.revokedAt),
        gt(refreshTokens.expiresAt, Date.now()),
      ),
    )
    .orderBy(desc(refreshTokens.createdAt))
    .limit(100);
  return rows.map((r) => ({
    id: r.id,
    device: r.device,
    createdAt: r.startedAt ?? r.createdAt,
    lastUsedAt: r.createdAt,
  }));
}

/** Revokes one of the user's sessions; false when it is not theirs or already ended. */
export async function revokeSession(env: Env, userId: string, familyId: string): Promise<boolean> {
  const revoked = await db(env)
    .update(refreshTokens)
    .set({ revokedAt: Date.now() })
    .where(
      and(
        eq(refreshTokens.familyId, familyId),
        eq(refreshTokens.userId, userId),
        isNull(refreshTokens.revokedAt),
        gt(refreshTokens.expiresAt, Date.now()),
      ),
    )
    .returning({ familyId: refreshTokens.familyId });
  return revoked.length > 0;
}
