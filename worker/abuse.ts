// Abuse controls on the Worker's side: counting sign-ups per IP and per device
// fingerprint (RateLimiter objects keyed by hashes, never the IP in clear) and
// telling a sender's Account that a recipient complained. The thresholds and
// the decision live in worker/domain/reputation.ts and the sender's Account.
import { sha256Hex } from "./auth/crypto";
import { clientIp } from "./identity/rate-limit";

const DAY_MS = 86_400_000;
/** The RateLimiter is used as a counter here: nothing is refused at sign-up, the count is recorded. */
const COUNT_ONLY = 1_000_000_000;

async function countHit(env: Env, name: string): Promise<number> {
  const r = await env.RATE_LIMITER.getByName(name).hit(COUNT_ONLY, DAY_MS);
  return COUNT_ONLY - r.remaining;
}

/**
 * Records, on a new user's Account, how many accounts were created from the same
 * IP and the same device fingerprint (`X-Device-Fingerprint`, sent by the web UI)
 * in the last 24 hours. First contacts from such cohorts are slowed, then refused.
 */
export async function recordSignup(env: Env, userId: string, req: { header(name: string): string | undefined }) {
  const ip = clientIp(req);
  const device = req.header("x-device-fingerprint")?.slice(0, 256);
  const [fromIp, fromDevice] = await Promise.all([
    countHit(env, `signup-ip:${await sha256Hex(`ip:${ip}`)}`),
    device ? countHit(env, `signup-device:${await sha256Hex(`device:${device}`)}`) : Promise.resolve(1),
  ]);
  await env.ACCOUNT.getByName(userId).registered(fromIp, fromDevice);
}

/** A recipient blocked or reported `senderId`: counts against the sender (once per recipient). */
export function complain(
  env: Env,
  ctx: { waitUntil(p: Promise<unknown>): void },
  senderId: string,
  recipientId: string,
  kind: "block" | "report",
) {
  ctx.waitUntil(
    env.ACCOUNT.getByName(senderId)
      .complaint(recipientId, kind)
      .catch(() => undefined),
  );
}
