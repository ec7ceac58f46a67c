// Telegram Bot API: sendMessage to the chat bound through the /start deep link.
// A 403 means the user blocked the bot (or left the chat): the channel is revoked.
import type { NotifyConfig } from "../config";
import { classify, discard, json, type Outcome, type Timed, timedFetch } from "./outcome";

type Tg = NonNullable<NotifyConfig["telegram"]>;

export async function telegramCall(tg: Tg, method: string, body: unknown): Promise<Timed> {
  return timedFetch(
    `${tg.apiUrl}/bot${tg.token}/${method}`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    },
    tg.timeoutMs,
  );
}

export async function sendTelegram(tg: Tg, chatId: string, text: string): Promise<Outcome & { latencyMs: number }> {
  const { res, latencyMs, error } = await telegramCall(tg, "sendMessage", {
    chat_id: chatId,
    text,
    link_preview_options: { is_disabled: true },
  });
  if (!res || res.ok) {
    await discard(res);
    return { ...classify(res, null, error), latencyMs };
  }
  const answer = await json<{ description?: string; parameters?: { retry_after?: number } }>(res);
  if (res.status === 403) return { ok: false, kind: "revoked", code: 403, error: "blocked_by_user", latencyMs };
  const retryAfter = typeof answer?.parameters?.retry_after === "number" ? answer.parameters.retry_after : null;
  return { ...classify(res, retryAfter), latencyMs };
}
