// One-time codes that prove control of an email address or phone number.
// 6 digits, stored only as HMAC(OTP_HMAC_KEY, id:code), 10-minute expiry, 5
// attempts (counted with a conditional UPDATE, so parallel guesses cannot exceed
// it), a per-target resend cooldown and per-target / per-IP daily caps counted
// exactly by RateLimiter objects keyed by blind index (never by the target).
import { and, eq, inArray, isNull, lt, ne, sql } from "drizzle-orm";
import { randomId, timingSafeEqual } from "../auth/crypto";
import { db } from "../db/client";
import { userContacts, users, verifications } from "../db/schema";
import { ApiError } from "../http/errors";
import { errorSummary } from "../observability/log";
import { identityConfig } from "./config";
import {
  blindIndex,
  blindIndexes,
  type Channel,
  contactContext,
  normalizeTarget,
  open,
  seal,
  verificationContext,
} from "./pii";
import { OtpDeliveryError, otpProvider } from "./providers";
import { hit, rateLimited } from "./rate-limit";

export const OTP_TTL_MS = 10 * 60 * 1000;
export const OTP_MAX_ATTEMPTS = 5;
const DAY_MS = 86_400_000;

const enc = new TextEncoder();

/** A uniformly random 6-digit code (rejection sampling, no modulo bias). */
export function generateCode(): string {
  const buf = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    if (buf[0] < 4_294_000_000) return String(buf[0] % 1_000_000).padStart(6, "0");
  }
}

export async function codeHmac(env: Env, verificationId: string, code: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(env.OTP_HMAC_KEY),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = await crypto.subtle.sign("HMAC", key, enc.encode(`${verificationId}:${code}`));
  return [...new Uint8Array(sig)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The target, normalized (E.164 phone, lower-cased email); 400 when it is neither. */
export function requireTarget(channel: Channel, target: string): string {
  const normalized = normalizeTarget(channel, target);
  if (!normalized) {
    const what = channel === "phone" ? "an E.164 phone number like +12025550143" : "a valid email address";
    throw new ApiError(400, "invalid_request", `target must be ${what}.`, {
      issues: [{ path: "target", message: `must be ${what}`, code: "invalid_format" }],
    });
  }
  return normalized;
}

/** One code to issue; what differs between verifying a contact and signing in with it. */
export interface CodeIssue<T extends { id: string }> {
  channel: Channel;
  target: string;
  ip: string;
  /** Names the resend cooldown's counter for the target's blind index. */
  cooldownName(index: string): string;
  /** Stores the pending code — only its HMAC (codeHmac) and the sealed target — under a new id. */
  store(normalized: string, index: string, code: string): Promise<T>;
  /** Retires a stored code that never arrived, so it cannot be guessed at. */
  retire(id: string): Promise<void>;
  /** The text sent with the code. */
  message(code: string): string;
}

/**
 * Issues a one-time code: target check, provider, resend cooldown (first, so
 * hammering resend does not burn the daily caps), per-target and per-IP daily
 * caps, then store and send.
 */
export async function issueCode<T extends { id: string }>(env: Env, issue: CodeIssue<T>): Promise<T> {
  const normalized = requireTarget(issue.channel, issue.target);
  const provider = otpProvider(env, issue.channel);
  if (!provider) throw new ApiError(503, "otp_unavailable", `No ${issue.channel} code provider is configured.`);
  const ic = identityConfig(env);
  const index = await blindIndex(env, issue.channel, normalized);
  if (ic.otpResendCooldownSeconds > 0) {
    const cool = await hit(env, issue.cooldownName(index), 1, ic.otpResendCooldownSeconds * 1000);
    if (!cool.ok) throw rateLimited(cool.retryAfterSeconds, "A code was sent recently; wait before asking again.");
  }
  const perTarget = await hit(env, `otp-target:${issue.channel}:${index}`, ic.otpTargetDailyCap, DAY_MS);
  if (!perTarget.ok) throw rateLimited(perTarget.retryAfterSeconds, "Too many codes for this target today.");
  const perIp = await hit(env, `otp-ip:${issue.ip}`, ic.otpIpDailyCap, DAY_MS);
  if (!perIp.ok) throw rateLimited(perIp.retryAfterSeconds, "Too many codes requested from this network today.");

  const code = generateCode();
  const stored = await issue.store(normalized, index, code);
  try {
    await provider.send(env, { channel: issue.channel, to: normalized, text: issue.message(code) });
  } catch (err) {
    await issue.retire(stored.id);
    if (err instanceof OtpDeliveryError) {
      console.warn(`otp delivery failed (${issue.channel}): ${errorSummary(err)}`);
      throw new ApiError(502, "otp_delivery_failed", "The code could not be sent; try again later.");
    }
    throw err;
  }
  return stored;
}

/** A stored code being redeemed; how attempts are counted and the code is claimed depends on where it lives. */
export interface CodeRedemption {
  id: string;
  code: string;
  /** codeHmac(id, the code that was sent). */
  hmac: string;
  spent: boolean;
  expiresAt: number;
  /** Counts this attempt before the comparison (exact under concurrency); the attempts left, or throws. */
  countAttempt(): Promise<number>;
  /** Marks the code used, once: false when a concurrent redemption won. */
  claim(): Promise<boolean>;
}

/** Redeems a code: 410 when expired or used, 429 past the attempts, 400 invalid_code (with attemptsLeft) when wrong. */
export async function redeemCode(env: Env, r: CodeRedemption): Promise<void> {
  if (r.spent || r.expiresAt <= Date.now()) {
    throw new ApiError(410, "expired", "This code has expired or was already used; request a new one.");
  }
  const attemptsLeft = await r.countAttempt();
  if (!timingSafeEqual(await codeHmac(env, r.id, r.code), r.hmac)) {
    throw new ApiError(400, "invalid_code", "That code is not right.", { attemptsLeft });
  }
  if (!(await r.claim())) throw new ApiError(410, "expired", "This code was already used.");
}

export interface VerificationRequest {
  userId: string;
  channel: Channel;
  target: string;
  ip: string;
}

export async function requestVerification(
  env: Env,
  req: VerificationRequest,
): Promise<{ verificationId: string; expiresAt: number }> {
  const { id, expiresAt } = await issueCode(env, {
    ...req,
    // Per user and target: spreading requests over several accounts is what the per-target daily cap is for.
    cooldownName: (index) => `otp-cooldown:${req.userId}:${req.channel}:${index}`,
    store: async (normalized, index, code) => {
      const id = randomId("ver");
      const sealed = await seal(env, normalized, verificationContext(id, req.channel));
      const expiresAt = Date.now() + OTP_TTL_MS;
      await db(env)
        .insert(verifications)
        .values({
          id,
          userId: req.userId,
          channel: req.channel,
          targetBlindIndex: index,
          targetCiphertext: sealed.ciphertext,
          targetIv: sealed.iv,
          keyVersion: sealed.keyVersion,
          codeHmac: await codeHmac(env, id, code),
          expiresAt,
        });
      return { id, expiresAt };
    },
    retire: async (id) => {
      await db(env).update(verifications).set({ consumedAt: Date.now() }).where(eq(verifications.id, id));
    },
    message: (code) => `Your Paid Inbox verification code is ${code}. It expires in 10 minutes.`,
  });
  return { verificationId: id, expiresAt };
}

export async function confirmVerification(
  env: Env,
  userId: string,
  verificationId: string,
  code: string,
): Promise<{ channel: Channel }> {
  const d = db(env);
  const row = await d.query.verifications.findFirst({
    where: and(eq(verifications.id, verificationId), eq(verifications.userId, userId)),
  });
  if (!row) throw new ApiError(404, "not_found", "No such verification.");
  await redeemCode(env, {
    id: row.id,
    code,
    hmac: row.codeHmac,
    spent: row.consumedAt !== null,
    expiresAt: row.expiresAt,
    // One conditional UPDATE, so parallel guesses cannot exceed the limit.
    countAttempt: async () => {
      const [counted] = await d
        .update(verifications)
        .set({ attempts: sql`${verifications.attempts} + 1` })
        .where(
          and(
            eq(verifications.id, verificationId),
            isNull(verifications.consumedAt),
            lt(verifications.attempts, OTP_MAX_ATTEMPTS),
          ),
        )
        .returning({ attempts: verifications.attempts });
      if (!counted) {
        const latest = await d.query.verifications.findFirst({ where: eq(verifications.id, verificationId) });
        if (latest?.consumedAt != null) throw new ApiError(410, "expired", "This code was already used.");
        throw new ApiError(429, "too_many_attempts", "Too many wrong codes; request a new one.");
      }
      return OTP_MAX_ATTEMPTS - counted.attempts;
    },
    claim: async () => {
      const [claimed] = await d
        .update(verifications)
        .set({ consumedAt: Date.now() })
        .where(and(eq(verifications.id, verificationId), isNull(verifications.consumedAt)))
        .returning({ id: verifications.id });
      return claimed !== undefined;
    },
  });
  const channel = row.channel;
  const target = await open(
    env,
    { ciphertext: row.targetCiphertext, iv: row.targetIv, keyVersion: row.keyVersion },
    verificationContext(row.id, channel),
  );
  await setVerifiedContact(env, userId, channel, target);
  return { channel };
}

/**
 * Records `target` as the user's verified email/phone. A target belongs to one
 * user at a time: the newest verified owner wins (numbers are recycled by
 * carriers; whoever receives the code now controls it) and the previous owner
 * loses it — their contact row goes and their verified flag is cleared — in the
 * same D1 transaction as the new owner's write.
 */
export async function setVerifiedContact(env: Env, userId: string, channel: Channel, target: string): Promise<void> {
  const d = db(env);
  const indexes = await blindIndexes(env, channel, target);
  const sealed = await seal(env, target, contactContext(userId, channel));
  const flag = channel === "phone" ? { phoneVerified: false } : { emailVerified: false };
  const setFlag = channel === "phone" ? { phoneVerified: true } : { emailVerified: true };
  const otherOwners = and(
    eq(userContacts.channel, channel),
    inArray(userContacts.blindIndex, indexes),
    ne(userContacts.userId, userId),
  );
  const now = Date.now();
  await d.batch([
    d
      .update(users)
      .set({ ...flag, updatedAt: now })
      .where(inArray(users.id, d.select({ id: userContacts.userId }).from(userContacts).where(otherOwners))),
    d.delete(userContacts).where(otherOwners),
    d
      .insert(userContacts)
      .values({
        userId,
        channel,
        ciphertext: sealed.ciphertext,
        iv: sealed.iv,
        keyVersion: sealed.keyVersion,
        blindIndex: indexes[0],
        verifiedAt: now,
      })
      .onConflictDoUpdate({
        target: [userContacts.userId, userContacts.channel],
        set: {
          ciphertext: sealed.ciphertext,
          iv: sealed.iv,
          keyVersion: sealed.keyVersion,
          blindIndex: indexes[0],
          verifiedAt: now,
        },
      }),
    d
      .update(users)
      .set({ ...setFlag, updatedAt: now })
      .where(eq(users.id, userId)),
  ]);
}
