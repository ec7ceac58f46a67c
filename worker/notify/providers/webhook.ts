// The user's own HTTPS endpoint, signed per Standard Webhooks (webhook-id,
// webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256("id.ts.body")>)
// with the `standardwebhooks` reference library. The webhook-id is the same on
// every retry of one event, so receivers can deduplicate. No redirects, 10 s
// (NotifyConfig.timeoutMs), the response body is never read.
import { Webhook } from "standardwebhooks";
import { classify, discard, type Outcome, timedFetch } from "./outcome";

export async function sendWebhook(
  url: string,
  secret: string,
  webhookId: string,
  payload: string,
  timeoutMs: number,
  now = new Date(),
): Promise<Outcome & { latencyMs: number }> {
  const signature = new Webhook(secret).sign(webhookId, now, payload);
  const { res, latencyMs, error } = await timedFetch(
    url,
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "PaidInbox-Webhooks/1",
        "webhook-id": webhookId,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body: payload,
    },
    timeoutMs,
  );
  await discard(res);
  const outcome = classify(res, null, error);
  // 410 Gone: the receiver says this endpoint is retired (Standard Webhooks' advice: stop sending).
  if (!outcome.ok && outcome.code === 410) return { ok: false, kind: "revoked", code: 410, error: "gone", latencyMs };
  return { ...outcome, latencyMs };
}

/** A new signing secret: `whsec_` + base64 of 24 random bytes. */
export function newSigningSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}
