// What travels on the `deliveries` queue (pure types, shared by the Account that
// produces notify jobs and the consumer in worker/notify/). Jobs never carry a
// message body: a channel with includeBody reads it from the recipient's Account
// at delivery time, so bodies stay out of queues, dead letters and D1.

export const CHANNELS = ["telegram", "whatsapp", "x", "webhook", "email"] as const;
export type ChannelName = (typeof CHANNELS)[number];

/** One paid message as a notification sees it. */
export interface NotifyItem {
  messageId: string;
  from: { id: string; handle: string | null };
  price: string;
  status: string;
  createdAt: number;
}

export type DeliveryJob =
  /** From the recipient Account's batched flush: everything received since the last one (a digest). */
  | { kind: "notify"; recipientId: string; items: NotifyItem[] }
  /** One channel's delivery after its first attempt failed, or a test, or a redrive. */
  | {
      kind: "deliver";
      recipientId: string;
      channel: ChannelName;
      key: string;
      items: NotifyItem[];
      /** Attempts made before this job was queued (the fan-out's inline try, earlier lives before a redrive). */
      prior: number;
      test?: boolean;
      redrive?: boolean;
    };

/** The notify job for messages just received, if the recipient wants notices for any of them. */
export function notifyJob(
  recipientId: string,
  rows: {
    messageId: string;
    senderId: string;
    senderHandle: string | null;
    price: string;
    status: string;
    createdAt: number;
  }[],
  minPrice: bigint | null,
): DeliveryJob | null {
  if (minPrice === null) return null;
  const items = rows
    .filter((r) => BigInt(r.price) >= minPrice)
    .map((r) => ({
      messageId: r.messageId,
      from: { id: r.senderId, handle: r.senderHandle },
      price: r.price,
      status: r.status,
      createdAt: r.createdAt,
    }));
  return items.length ? { kind: "notify", recipientId, items } : null;
}
