// X (Twitter) API v2: a direct message from the app's own account to the linked
// user. Rate limits come as 429 with x-rate-limit-reset (epoch seconds).
import type { NotifyConfig } from "../config";
import { classify, discard, type Outcome, retryAfterHeader, timedFetch } from "./outcome";

type X = NonNullable<NotifyConfig["x"]>;

export async function sendXDm(x: X, userId: string, text: string): Promise<Outcome & { latencyMs: number }> {
  const { res, latencyMs, error } = await timedFetch(
    `${x.apiUrl}/2/dm_conversations/with/${encodeURIComponent(userId)}/messages`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${x.botToken}`, "content-type": "application/json" },
      body: JSON.stringify({ text: text.slice(0, 10_000) }),
    },
    x.timeoutMs,
  );
  let retryAfter: number | null = null;
  if (res?.status === 429) {
    const reset = Number(res.headers.get("x-rate-limit-reset"));
    retryAfter =
      Number.isFinite(reset) && reset > 0 ? Math.max(1, reset - Math.floor(Date.now() / 1000)) : retryAfterHeader(res);
  }
  await discard(res);
  return { ...classify(res, retryAfter, error), latencyMs };
}
