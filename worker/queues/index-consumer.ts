// The `index` queue: each message is one batch an Account froze and flushed
// (durable-objects/account/outbox-flush.ts). Per batch the consumer
//   1. archives it in R2 as an immutable object under a key derived from the
//      batch itself (account, sequence, time) — written only if absent, so a
//      redelivered batch is stored exactly once;
//   2. keeps that Account's newest totals in D1 (one row per Account, kept only
//      if newer), the only D1 write: nothing in D1 grows with messages.
// Batches may arrive late, twice or out of order; both steps are idempotent.
import { archiveKey, type FlushBatch, type TotalsRecord } from "../../durable-objects/account/outbox-flush";
import type { DeliveryJob } from "../domain/delivery-job";
import { log, metric } from "../observability/log";

export type IndexMessage = FlushBatch;

/** Writes the batch to the archive unless it is already there. True if this call wrote it. */
export async function archiveBatch(bucket: R2Bucket, batch: FlushBatch): Promise<boolean> {
  const key = archiveKey(batch);
  // Deterministic key + "only if absent": one conditional put, which leaves an
  // existing object untouched (a redelivery, or two consumers racing on the
  // same batch). No head check first: it would cost every batch an extra R2
  // operation to save one only on the rare redelivery.
  const written = await bucket.put(key, JSON.stringify(batch), {
    onlyIf: { etagDoesNotMatch: "*" },
    httpMetadata: { contentType: "application/json" },
    customMetadata: {
      accountId: batch.accountId,
      seq: String(batch.seq),
      frozenAt: String(batch.frozenAt),
      ledgerFrom: String(batch.ledger[0]?.id ?? ""),
      ledgerTo: String(batch.ledger.at(-1)?.id ?? ""),
    },
  });
  return written !== null;
}

/** One upsert per Account, kept only if its ledger sequence is newer than the row's. */
export function totalsStatement(db: D1Database, accountId: string, t: TotalsRecord): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO account_totals (account_id, seq, balance, held, fees, topups, deposits, withdrawals, audit_head, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET seq = excluded.seq, balance = excluded.balance,
         held = excluded.held, fees = excluded.fees, topups = excluded.topups, deposits = excluded.deposits,
         withdrawals = excluded.withdrawals, audit_head = excluded.audit_head, updated_at = excluded.updated_at
       WHERE excluded.seq > account_totals.seq`,
    )
    .bind(
      accountId,
      t.seq,
      t.balance,
      t.held,
      t.fees,
      t.topups,
      t.deposits,
      t.withdrawals,
      t.auditHead ?? null,
      Date.now(),
    );
}

/**
 * Archives each batch, then writes the newest totals per Account in one D1
 * batch. A message whose archive write fails is retried alone (its totals wait
 * for it, so D1 never runs ahead of the archive).
 */
export async function consumeIndexBatch(batch: MessageBatch<IndexMessage>, env: Env): Promise<void> {
  const archived: Message<IndexMessage>[] = [];
  await Promise.all(
    batch.messages.map(async (m) => {
      try {
        await archiveBatch(env.ARCHIVE, m.body);
        archived.push(m);
      } catch (err) {
        log("error", "archive failed, retrying", { batch: m.body.seq, error: (err as Error).name });
        metric(env, { kind: "queue_retry", label: "index" });
        m.retry({ delaySeconds: 5 });
      }
    }),
  );
  try {
    await afterArchived(
      env,
      archived.map((m) => m.body),
    );
    for (const m of archived) m.ack();
  } catch (err) {
    log("error", "totals write failed, retrying", { batches: archived.length, error: (err as Error).name });
    metric(env, { kind: "queue_retry", label: "index", count: archived.length });
    for (const m of archived) m.retry({ delaySeconds: 5 });
  }
}

/**
 * What follows the archive for batches already in it: the newest totals per
 * Account (one D1 batch, kept only if newer), one notify job per batch that has
 * notify records, and refund metrics. Idempotent, so a redelivered, dead-lettered
 * or redriven batch can run it again (worker/queues/index-dead-letters.ts).
 */
export async function afterArchived(env: Env, batches: FlushBatch[]): Promise<void> {
  const newest = new Map<string, TotalsRecord>();
  for (const body of batches) {
    const t = newest.get(body.accountId);
    if (!t || t.seq < body.totals.seq) newest.set(body.accountId, body.totals);
  }
  if (newest.size) await env.DB.batch([...newest].map(([id, t]) => totalsStatement(env.DB, id, t)));
  // Notification rails: each batch's notify records become one notify job (a
  // digest per flush window). A redelivered batch sends the same job again;
  // the deliveries consumer's (key, channel) claim makes that a no-op.
  const notify = batches.filter((b) => b.notify?.length);
  if (notify.length) {
    await env.DELIVERIES.sendBatch(
      notify.map((b) => ({
        body: { kind: "notify", recipientId: b.accountId, items: b.notify ?? [] } satisfies DeliveryJob,
        contentType: "json" as const,
      })),
    );
  }
  refundMetrics(env, batches);
}

const SUM_FIELDS = ["topups", "deposits", "withdrawals", "balance", "held", "fees"] as const;

/** Totals over every Account's latest flushed snapshot, summed as bigint. */
export async function ledgerSummary(env: Env) {
  const { results } = await env.DB.prepare(
    "SELECT topups, deposits, withdrawals, balance, held, fees FROM account_totals",
  ).all<Record<(typeof SUM_FIELDS)[number], string>>();
  const sum = Object.fromEntries(SUM_FIELDS.map((f) => [f, 0n])) as Record<(typeof SUM_FIELDS)[number], bigint>;
  for (const r of results) for (const f of SUM_FIELDS) sum[f] += BigInt(r[f]);
  return {
    topups: `${sum.topups}`,
    deposits: `${sum.deposits}`,
    withdrawals: `${sum.withdrawals}`,
    balances: `${sum.balance}`,
    held: `${sum.held}`,
    fees: `${sum.fees}`,
    accounts: results.length,
    conserved: sum.topups + sum.deposits - sum.withdrawals === sum.balance + sum.held + sum.fees,
  };
}

/** Refunds are counted here, off the send path, from the ledger entries the Accounts flush. */
function refundMetrics(env: Env, batches: FlushBatch[]): void {
  for (const body of batches) {
    for (const e of body.ledger) if (e.kind === "refund") metric(env, { kind: "refund", amount: BigInt(e.amount) });
  }
}
