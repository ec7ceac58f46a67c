// The `settle` queue (chain mode): accepted payments handed to the Relayer
// Durable Object, which batches them into settleBatchPacked transactions. A
// message is acknowledged once the Relayer has stored it; a malformed one is
// dropped with a log line (retrying cannot fix it).
import { z } from "@hono/zod-openapi";
import { relayerStub } from "../chain/relayer-status";
import type { SettleJob } from "../chain/settle-job";
import { errorSummary } from "../observability/log";

const hex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`));
const uint = z.string().regex(/^\d{1,78}$/);

export const settleJobSchema = z.object({
  payment: z.object({
    payer: hex(20),
    recipient: hex(20),
    messageId: hex(32),
    contentHash: hex(32),
    amount: uint,
    nonce: uint,
    deadline: uint,
  }),
  signature: z.string().regex(/^0x([0-9a-fA-F]{2}){1,8192}$/),
  channel: z.number().int().min(0).max(255),
});

/** Retry later when the relayer cannot send (no key or chain configured yet). */
const NOT_CONFIGURED_DELAY_SECONDS = 60;

export async function consumeSettleBatch(batch: MessageBatch<SettleJob>, env: Env): Promise<void> {
  if (!env.RELAYER_PRIVATE_KEY) {
    console.error("settle: RELAYER_PRIVATE_KEY is not set; payments wait in the queue");
    batch.retryAll({ delaySeconds: NOT_CONFIGURED_DELAY_SECONDS });
    return;
  }
  const valid: { msg: Message<SettleJob>; job: SettleJob }[] = [];
  for (const msg of batch.messages) {
    const parsed = settleJobSchema.safeParse(msg.body);
    if (parsed.success) valid.push({ msg, job: parsed.data as SettleJob });
    else {
      console.error("settle: dropping a malformed job", msg.id);
      msg.ack();
    }
  }
  if (valid.length === 0) return;
  try {
    await relayerStub(env).enqueue(valid.map((v) => v.job));
    for (const v of valid) v.msg.ack();
  } catch (err) {
    console.error("settle: relayer unavailable", errorSummary(err));
    for (const v of valid) v.msg.retry();
  }
}
