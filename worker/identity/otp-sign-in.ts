// Sign in with a code sent to an email address or phone number. The code proves
// control of the target now; the account is the one that has it as a verified
// contact (a target has one verified owner at a time, see setVerifiedContact), or
// a new account that gets it verified. The same code rules as verification:
// 6 digits stored only as an HMAC, 10 minutes, 5 attempts (counted exactly by a
// RateLimiter object), a resend cooldown and the per-target / per-IP daily caps.
// The pending sign-in is an auth_challenges row (kind otp_login): the target is
// sealed in it, its blind index is the subject, the code's HMAC the payload hash.
import { and, eq, inArray, isNull } from "drizzle-orm";
import { randomId } from "../auth/crypto";
import { db } from "../db/client";
import { authChallenges, userContacts, users } from "../db/schema";
import { ApiError } from "../http/errors";
import { codeHmac, issueCode, OTP_MAX_ATTEMPTS, OTP_TTL_MS, redeemCode, setVerifiedContact } from "./otp";
import { blindIndexes, type Channel, open, type Sealed, seal } from "./pii";
import { hit } from "./rate-limit";

const sealContext = (id: string) => `otp-login:${id}`;

export async function startCodeSignIn(
  env: Env,
  req: { channel: Channel; target: string; ip: string },
): Promise<{ challengeId: string; expiresAt: number }> {
  const { id, expiresAt } = await issueCode(env, {
    ...req,
    cooldownName: (index) => `otp-login-cooldown:${req.channel}:${index}`,
    store: async (normalized, index, code) => {
      const id = randomId("otl");
      const sealed = await seal(env, normalized, sealContext(id));
      const expiresAt = Date.now() + OTP_TTL_MS;
      await db(env)
        .insert(authChallenges)
        .values({
          id,
          kind: "otp_login",
          subject: `${req.channel}:${index}`,
          payloadHash: await codeHmac(env, id, code),
          payload: JSON.stringify({ channel: req.channel, ...sealed }),
          expiresAt,
        });
      return { id, expiresAt };
    },
    retire: async (id) => {
      await db(env).update(authChallenges).set({ usedAt: Date.now() }).where(eq(authChallenges.id, id));
    },
    message: (code) =>
      `Your Paid Inbox sign-in code is ${code}. It expires in 10 minutes. If you didn't ask for it, ignore it.`,
  });
  return { challengeId: id, expiresAt };
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
  await redeemCode(env, {
    id: challengeId,
    code,
    hmac: row.payloadHash,
    spent: row.usedAt !== null,
    expiresAt: row.expiresAt,
    // Exact under concurrency: one RateLimiter object per challenge.
    countAttempt: async () => {
      const attempt = await hit(env, `otp-login-attempts:${challengeId}`, OTP_MAX_ATTEMPTS, OTP_TTL_MS);
      if (!attempt.ok) throw new ApiError(429, "too_many_attempts", "Too many wrong codes; request a new one.");
      return attempt.remaining;
    },
    claim: async () => {
      const [claimed] = await d
        .update(authChallenges)
        .set({ usedAt: Date.now() })
        .where(and(eq(authChallenges.id, challengeId), isNull(authChallenges.usedAt)))
        .returning({ id: authChallenges.id });
      return claimed !== undefined;
    },
  });

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
