// Sessions: a short-lived access JWT (jose, HS256) plus a rotating refresh token
// stored hashed. Rotating marks the old token; presenting a rotated (or revoked)
// token again revokes the whole family, so a stolen refresh token is good for at
// most one use before both parties are signed out.
import { and, eq, isNull } from "drizzle-orm";
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

export async function signAccessToken(env: Env, userId: string): Promise<string> {
  const ttl = config(env).accessTokenTtlSeconds;
  return new SignJWT({})
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
const verified = new Map<string, { sub: string; exp: number }>();
const VERIFIED_MAX = 10_000;

/** The user id of a valid access token, or null. */
export async function verifyAccessToken(env: Env, token: string): Promise<string | null> {
  const now = Date.now() / 1000;
  const hit = verified.get(token);
  if (hit) {
    if (hit.exp > now) return hit.sub;
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
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value as string);
    verified.set(token, { sub: payload.sub, exp: payload.exp });
    return payload.sub;
  } catch {
    return null;
  }
}

async function insertRefreshToken(env: Env, userId: string, familyId: string): Promise<string> {
  const token = randomToken(32);
  await db(env)
    .insert(refreshTokens)
    .values({
      tokenHash: await sha256Hex(token),
      familyId,
      userId,
      expiresAt: Date.now() + config(env).refreshTokenTtlMs,
    });
  return token;
}

export async function issueSession(env: Env, userId: string): Promise<TokenPair> {
  const [accessToken, refreshToken] = await Promise.all([
    signAccessToken(env, userId),
    insertRefreshToken(env, userId, randomId("fam")),
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
    .returning({ userId: refreshTokens.userId, familyId: refreshTokens.familyId, expiresAt: refreshTokens.expiresAt });
  if (!claimed) {
    // Unknown, already rotated or revoked. A known token here is a replay:
    // revoke its family so whoever holds the newer token is signed out too.
    const known = await db(env).query.refreshTokens.findFirst({ where: eq(refreshTokens.tokenHash, hash) });
    if (known) await revokeFamily(env, known.familyId);
    return { ok: false };
  }
  if (claimed.expiresAt <= now) return { ok: false };
  const [accessToken, refreshToken] = await Promise.all([
    signAccessToken(env, claimed.userId),
    insertRefreshToken(env, claimed.userId, claimed.familyId),
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
