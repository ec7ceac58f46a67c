// Sign in with a code sent to an email address or phone number. The code proves
// control of the target now; the account is the one that has it as a verified
// contact (a target has one verified owner at a time, see setVerifiedContact), or
// a new account that gets it verified. The same code rules as verification:
// 6 digits stored only as an HMAC, 10 minutes, 5 attempts (counted exactly by a
// RateLimiter object), a resend cooldown and the per-target / per-IP daily caps.
// The pending sign-in is an auth_challenges row (kind otp_login): the target is
// sealed in it, its blind index is the subject, the code's HMAC the payload hash.
import { and, eq, inArray, isNull } from "drizzle-orm";
import { randomId, timingSafeEqual } from "../auth/crypto";
import { db } from "../db/client";
import { authChallenges, userContacts, users } from "../db/schema";
import { ApiError } from "../http/errors";
import { identityConfig } from "./config";
import { codeHmac, generateCode, OTP_MAX_ATTEMPTS, OTP_TTL_MS, setVerifiedContact } from "./otp";
import { blindIndex, blindIndexes, type Channel, normalizeTarget, open, type Sealed, seal } from "./pii";
import { OtpDeliveryError, otpProvider } from "./providers";
import { hit, rateLimited } from "./rate-limit";

const DAY_MS = 86_400_000;
const sealContext = (id: string) => `otp-login:${id}`;

export async function startCodeSignIn(
  env: Env,
  req: { channel: Channel; target: string; ip: string },
): Promise<{ challengeId: string; expiresAt: number }> {
  const normalized = normalizeTarget(req.channel, req.target);
  if (!normalized) {
    const what = req.channel === "phone" ? "an E.164 phone number like +12025550143" : "a valid email address";
    throw new ApiError(400, "invalid_request", `target must be ${what}.`, {
      issues: [{ path: "target", message: `must be ${what}`, code: "invalid_format" }],
    });
  }
  const provider = otpProvider(env, req.channel);
  if (!provider) throw new ApiError(503, "otp_unavailable", `No ${req.channel} code provider is configured.`);
  const ic = identityConfig(env);
  const index = await blindIndex(env, req.channel, normalized);
  if (ic.otpResendCooldownSeconds > 0) {
    const cool = await hit(env, `otp-login-cooldown:${req.channel}:${index}`, 1, ic.otpResendCooldownSeconds * 1000);
    if (!cool.ok) throw rateLimited(cool.retryAfterSeconds, "A code was sent recently; wait before asking again.");
  }
  const perTarget = await hit(env, `otp-target:${req.channel}:${index}`, ic.otpTargetDailyCap, DAY_MS);
  if (!perTarget.ok) throw rateLimited(perTarget.retryAfterSeconds, "Too many codes for this target today.");
  const perIp = await hit(env, `otp-ip:${req.ip}`, ic.otpIpDailyCap, DAY_MS);
  if (!perIp.ok) throw rateLimited(perIp.retryAfterSeconds, "Too many codes requested from this network today.");

  const challengeId = randomId("otl");
  const code = generateCode();
  const sealed = await seal(env, normalized, sealContext(challengeId));
  const expiresAt = Date.now() + OTP_TTL_MS;
  await db(env)
    .insert(authChallenges)
    .values({
      id: challengeId,
      kind: "otp_login",
      subject: `${req.channel}:${index}`,
      payloadHash: await codeHmac(env, challengeId, code),
      payload: JSON.stringify({ channel: req.channel, ...sealed }),
      expiresAt,
    });
  try {
    await provider.send(env, {
      channel: req.channel,
      to: normalized,
      text: `Your Paid Inbox sign-in code is ${code}. It expires in 10 minutes. If you didn't ask for it, ignore it.`,
    });
  } catch (err) {
    await db(env).update(authChallenges).set({ usedAt: Date.now() }).where(eq(authChallenges.id, challengeId));
    if (err instanceof OtpDeliveryError) {
      console.warn(`otp sign-in delivery failed (${req.channel}): ${err.message}`);
      throw new ApiError(502, "otp_delivery_failed", "The code could not be sent; try again later.");
    }
    throw err;
  }
  return { challengeId, expiresAt };
}

export async function finishCodeSignIn(
  env: Env,
  challengeId: string,
  code: string,
): Promise<{ userId: string; created: boolean }> {
  const d = db(env);
  const row = await d.query.authChallenges.findFirst({
    where: and(eq(authChallenges.id, challengeId), eq(authChallenges.kind, "otp_login")),
  });
  if (!row?.payload || !row.payloadHash) throw new ApiError(404, "not_found", "No such sign-in code.");
  if (row.usedAt !== null || row.expiresAt <= Date.now()) {
    throw new ApiError(410, "expired", "This code has expired or was already used; request a new one.");
  }
  // Count the attempt before comparing (exact under concurrency: one RateLimiter object per challenge).
  const attempt = await hit(env, `otp-login-attempts:${challengeId}`, OTP_MAX_ATTEMPTS, OTP_TTL_MS);
  if (!attempt.ok) throw new ApiError(429, "too_many_attempts", "Too many wrong codes; request a new one.");
  if (!timingSafeEqual(await codeHmac(env, challengeId, code), row.payloadHash)) {
    throw new ApiError(400, "invalid_code", "That code is not right.");
  }
  const [claimed] = await d
    .update(authChallenges)
    .set({ usedAt: Date.now() })
    .where(and(eq(authChallenges.id, challengeId), isNull(authChallenges.usedAt)))
    .returning({ id: authChallenges.id });
  if (!claimed) throw new ApiError(410, "expired", "This code was already used.");

  const { channel, ...sealed } = JSON.parse(row.payload) as { channel: Channel } & Sealed;
  const target = await open(env, sealed, sealContext(challengeId));
  const indexes = await blindIndexes(env, channel, target);
  const owner = await d.query.userContacts.findFirst({
    where: and(eq(userContacts.channel, channel), inArray(userContacts.blindIndex, indexes)),
  });
  if (owner) return { userId: owner.userId, created: false };
  const userId = randomId("u");
  await d.insert(users).values({ id: userId });
  await setVerifiedContact(env, userId, channel, target);
  return { userId, created: true };
}
