// WhatsApp Cloud API: business-initiated messages must use an approved
// template; ours has one body parameter, the notice text. The answer's message
// id (wamid) is kept with the attempt so status callbacks can update it.
import type { NotifyConfig } from "../config";
import { classify, discard, json, type Outcome, timedFetch } from "./outcome";

type Wa = NonNullable<NotifyConfig["whatsapp"]>;

export async function sendWhatsApp(wa: Wa, phone: string, text: string): Promise<Outcome & { latencyMs: number }> {
  const { res, latencyMs, error } = await timedFetch(
    `${wa.apiUrl}/${encodeURIComponent(wa.phoneNumberId)}/messages`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${wa.token}`, "content-type": "application/json" },
      body: JSON.stringify({
        messaging_product: "whatsapp",
        to: phone.replace(/^\+/, ""),
        type: "template",
        template: {
          name: wa.template,
          language: { code: wa.templateLanguage },
          // Template parameters may not contain newlines or long runs of spaces.
          components: [
            { type: "body", parameters: [{ type: "text", text: text.replace(/\s+/g, " ").slice(0, 1000) }] },
          ],
        },
      }),
    },
    wa.timeoutMs,
  );
  const outcome = classify(res, null, error);
  if (!res || !outcome.ok) {
    await discard(res);
    return { ...outcome, latencyMs };
  }
  const answer = await json<{ messages?: { id?: string }[] }>(res);
  const id = answer?.messages?.[0]?.id;
  return { ...outcome, providerMessageId: typeof id === "string" ? id.slice(0, 200) : undefined, latencyMs };
}
