// One delivery attempt on one rail: pick the rail, open its credentials, send.
import { config } from "../config";
import type { ChannelName } from "../domain/delivery-job";
import { type ChannelRow, type Credentials, openCredentials, verifiedContact } from "./channels";
import { notifyConfig } from "./config";
import { type Notification, renderEvent, renderText } from "./jobs";
import { sendEmail } from "./providers/email";
import type { Outcome } from "./providers/outcome";
import { sendTelegram } from "./providers/telegram";
import { sendWebhook } from "./providers/webhook";
import { sendWhatsApp } from "./providers/whatsapp";
import { sendXDm } from "./providers/x";

export type Attempted = Outcome & { latencyMs: number };

const unavailable = (error: string): Attempted => ({ ok: false, kind: "failed", code: 0, error, latencyMs: 0 });

/** Standard Webhooks id: the same for every retry of one event. */
export const webhookId = (key: string) => `msg_${key.replace(/[^A-Za-z0-9_-]/g, "_")}`;

export async function deliver(env: Env, row: ChannelRow, n: Notification): Promise<Attempted> {
  const nc = notifyConfig(env);
  let creds: Credentials;
  try {
    creds = await openCredentials(env, row);
  } catch {
    return unavailable("credentials_unreadable");
  }
  const channel: ChannelName = row.channel;
  switch (channel) {
    case "telegram":
      if (!nc.telegram) return unavailable("channel_unavailable");
      if (!creds.chatId) return unavailable("not_linked");
      return sendTelegram(nc.telegram, creds.chatId, renderText(n));
    case "whatsapp": {
      if (!nc.whatsapp) return unavailable("channel_unavailable");
      if (!creds.phone) return unavailable("not_linked");
      // Only while that number is still the user's verified phone: numbers are recycled, and
      // verifying it elsewhere moves it to its new owner (docs/architecture.md, Identity).
      if ((await verifiedContact(env, row.userId, "phone")) !== creds.phone) return unavailable("phone_changed");
      return sendWhatsApp(nc.whatsapp, creds.phone, renderText(n));
    }
    case "x":
      if (!nc.x) return unavailable("channel_unavailable");
      if (!creds.xUserId) return unavailable("not_linked");
      return sendXDm(nc.x, creds.xUserId, renderText(n));
    case "webhook":
      if (!creds.url || !creds.secret) return unavailable("not_linked");
      return sendWebhook(creds.url, creds.secret, webhookId(n.key), JSON.stringify(renderEvent(n)), nc.timeoutMs);
    case "email": {
      const to = await verifiedContact(env, row.userId, "email");
      if (!to) return unavailable("no_verified_email");
      const subject = n.test
        ? "Paid Inbox test notification"
        : n.items.length === 1
          ? "New paid message on Paid Inbox"
          : `${n.items.length} new paid messages on Paid Inbox`;
      return sendEmail(env, to, subject, renderText(n));
    }
  }
}

/** Link to the inbox for notices, when the public origin is known. */
export function inboxUrl(env: Env): string | null {
  const origin = config(env).appOrigin;
  return origin ? `${origin}/#/inbox` : null;
}
