// Cron housekeeping: rows that can no longer matter are deleted, so tables that
// every sign-in and verification writes to do not grow without bound.
import { notifyConfig } from "./notify/config";
import { INDEX_CHANNEL } from "./queues/index-dead-letters";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export async function purgeExpired(env: Env, now = Date.now()): Promise<void> {
  await env.DB.batch([
    // Single-use challenges (SIWE nonces, passkey challenges, OAuth state) past their expiry.
    env.DB.prepare("DELETE FROM auth_challenges WHERE expires_at < ?").bind(now - HOUR),
    // A refresh token past its expiry can neither be used nor be a replay worth detecting.
    env.DB.prepare("DELETE FROM refresh_tokens WHERE expires_at < ?").bind(now),
    // Verification attempts, kept a day past expiry for support questions.
    env.DB.prepare("DELETE FROM verifications WHERE expires_at < ?").bind(now - DAY),
    env.DB.prepare("DELETE FROM dev_outbox WHERE created_at < ?").bind(now - DAY),
    // Notification logs are kept NOTIFY_RETENTION_DAYS (default 7, well past the
    // longest retry schedule), so they stay bounded however many messages flow.
    ...["delivery_attempts", "deliveries"].map((t) =>
      env.DB.prepare(`DELETE FROM ${t} WHERE created_at < ?`).bind(now - notifyConfig(env).retentionDays * DAY),
    ),
    // Except a dead-lettered index batch not yet redriven: it is the only copy
    // of that slice of an Account's history (worker/queues/index-dead-letters.ts).
    env.DB.prepare("DELETE FROM dead_letters WHERE created_at < ? AND (channel != ? OR redriven_at IS NOT NULL)").bind(
      now - notifyConfig(env).retentionDays * DAY,
      INDEX_CHANNEL,
    ),
  ]);
}
