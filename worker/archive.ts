// Reading the R2 archive back: an Account's flushed batches in order (export,
// audit). Written by the index consumer (worker/queues/index-consumer.ts).
import type { FlushBatch } from "../durable-objects/account/outbox-flush";

export async function readBatches(
  bucket: R2Bucket,
  accountId: string,
  cursor: string | undefined,
  limit: number,
): Promise<{ batches: FlushBatch[]; nextCursor: string | null }> {
  const listed = await bucket.list({ prefix: `accounts/${accountId}/batches/`, cursor, limit });
  // Keys sort by zero-padded sequence, so a listing is already in batch order.
  const batches = await Promise.all(
    listed.objects.map(async (o) => {
      const body = await bucket.get(o.key);
      if (!body) throw new Error(`archived batch vanished: ${o.key}`);
      return body.json<FlushBatch>();
    }),
  );
  return { batches, nextCursor: listed.truncated ? listed.cursor : null };
}
