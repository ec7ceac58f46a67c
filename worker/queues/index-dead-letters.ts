// The `index-dlq` queue: flush batches the index consumer could not archive or
// total in 10 tries. The Account forgot each batch once it was sent, so this is
// the last copy of that history: it must end up in the R2 archive or in front
// of an operator, never be dropped.
//   1. Try the normal work once more (archive put-if-absent, totals newest-wins,
//      notify job — all idempotent), since the outage may be over.
//   2. Else record it in D1 `dead_letters` (channel `index`, key = its archive
//      key, job = the batch: ledger deltas, message metadata, totals — no
//      message bodies). `npm run ops -- dlq` lists it, `redrive` sends it back
//      to the `index` queue (worker/notify/consumer.ts redriveDeadLetters), and
//      the retention purge keeps it until then (worker/maintenance.ts).
//   3. Else (D1 down too) retry the message; the queue holds it meanwhile
//      (wrangler.toml: index-dlq max_retries, retry_delay).
// A message is acked only once it is archived or recorded.
import { archiveKey, type FlushBatch } from "../../durable-objects/account/outbox-flush";
import { log } from "../observability/log";
import { afterArchived, archiveBatch } from "./index-consumer";

/** The dead_letters channel of a flush batch (deliveries use the channel name, or `*` for a digest). */
export const INDEX_CHANNEL = "index";

export async function consumeIndexDeadLetters(batch: MessageBatch<FlushBatch>, env: Env): Promise<void> {
  // One at a time: this queue only sees batches after an outage, and a failure
  // of one must not hold back the others.
  for (const m of batch.messages) {
    const { accountId, seq } = m.body;
    let stage = "archive";
    try {
      await archiveBatch(env.ARCHIVE, m.body);
      stage = "totals";
      await afterArchived(env, [m.body]);
      m.ack();
      log("info", "index dead letter archived", { accountId, seq });
    } catch (err) {
      try {
        await recordIndexDeadLetter(env, m.body, `${stage}: ${(err as Error).name}`);
        m.ack();
        log("warn", "index batch dead-lettered", { accountId, seq, error: (err as Error).name });
      } catch (dbErr) {
        log("error", "index dead letter not recorded, retrying", { accountId, seq, error: (dbErr as Error).name });
        m.retry();
      }
    }
  }
}

/** Upsert by (key, channel): a batch dead-lettered again after a redrive is waiting again. */
function recordIndexDeadLetter(env: Env, batch: FlushBatch, lastError: string) {
  return env.DB.prepare(
    `INSERT INTO dead_letters (key, channel, user_id, job, last_error, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (key, channel) DO UPDATE SET job = excluded.job, last_error = excluded.last_error,
       created_at = excluded.created_at, redriven_at = NULL`,
  )
    .bind(archiveKey(batch), INDEX_CHANNEL, batch.accountId, JSON.stringify(batch), lastError, Date.now())
    .run();
}
