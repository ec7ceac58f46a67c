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

/** The messages just received that the recipient wants a notice for (at or above its lowest channel minPrice). */
export function notifyItems(
  rows: {
    messageId: string;
    senderId: string;
    senderHandle: string | null;
    price: string;
    status: string;
    createdAt: number;
  }[],
  minPrice: bigint | null,
): NotifyItem[] {
  if (minPrice === null) return [];
  return rows
    .filter((r) => BigInt(r.price) >= minPrice)
    .map((r) => ({
      messageId: r.messageId,
      from: { id: r.senderId, handle: r.senderHandle },
      price: r.price,
      status: r.status,
      createdAt: r.createdAt,
    }));
}
