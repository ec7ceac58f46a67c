// What a notification says, per rail. (The queue job shapes are in
// worker/domain/delivery-job.ts, shared with the Account that produces them.)
import type { NotifyItem } from "../domain/delivery-job";

export type { DeliveryJob, NotifyItem } from "../domain/delivery-job";

/** A notification ready for one channel: the items it covers and, with includeBody, their bodies. */
export interface Notification {
  key: string;
  recipientId: string;
  items: NotifyItem[];
  bodies: Map<string, string> | null;
  test: boolean;
  /** Where the inbox is (APP_ORIGIN), or null in development without one. */
  inboxUrl: string | null;
}

/** The idempotency key of a notification: the messageId, or a digest of several. */
export async function notificationKey(items: NotifyItem[]): Promise<string> {
  if (items.length === 1) return items[0].messageId;
  const ids = items.map((i) => i.messageId).join(",");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(ids)));
  return `digest:${[...digest.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Base units → "1.5" USDC (6 decimals, trailing zeros trimmed, at least 2 places). */
export function usdc(amount: string | bigint): string {
  const a = BigInt(amount);
  const whole = a / 1_000_000n;
  let frac = (a % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  if (frac.length < 2) frac = frac.padEnd(2, "0");
  return `${whole}.${frac}`;
}

const who = (i: NotifyItem) => (i.from.handle ? `@${i.from.handle}` : "someone");
const BODY_PREVIEW = 500;

/** The plain-text notice for chat-like rails (Telegram, X, email, WhatsApp's template parameter). */
export function renderText(n: Notification): string {
  if (n.test) return "Test notification from Paid Inbox: this channel works.";
  const total = n.items.reduce((s, i) => s + BigInt(i.price), 0n);
  const senders = [...new Set(n.items.map(who))];
  let text =
    n.items.length === 1
      ? `New paid message from ${who(n.items[0])} (${usdc(total)} USDC) on Paid Inbox.`
      : `${n.items.length} new paid messages (${usdc(total)} USDC) from ${
          senders.length <= 3 ? senders.join(", ") : `${senders.slice(0, 3).join(", ")} and ${senders.length - 3} more`
        } on Paid Inbox.`;
  if (n.bodies) {
    for (const i of n.items.slice(0, 5)) {
      const body = n.bodies.get(i.messageId);
      if (body === undefined) continue;
      text += `\n\n${who(i)}: ${body.length > BODY_PREVIEW ? `${body.slice(0, BODY_PREVIEW)}…` : body}`;
    }
  }
  if (n.inboxUrl) text += `\n\n${n.inboxUrl}`;
  return text;
}

/** The JSON event for the webhook rail (Standard Webhooks payload). */
export function renderEvent(n: Notification): Record<string, unknown> {
  if (n.test) return { type: "channel.test", createdAt: new Date().toISOString() };
  const one = (i: NotifyItem) => {
    const body = n.bodies?.get(i.messageId);
    return {
      messageId: i.messageId,
      from: i.from,
      price: i.price,
      status: i.status,
      createdAt: new Date(i.createdAt).toISOString(),
      ...(body !== undefined ? { body } : {}),
    };
  };
  if (n.items.length === 1) return { type: "message.received", ...one(n.items[0]) };
  return { type: "messages.received", count: n.items.length, messages: n.items.map(one) };
}
