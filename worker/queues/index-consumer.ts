// The `index` queue: Account events batched into D1. Every write is keyed by
// what caused it, so a redelivered or reordered batch changes nothing twice.
import type { IndexEvent } from "../../durable-objects/account";

export interface IndexMessage {
  events: IndexEvent[];
}

export function statementsFor(db: D1Database, events: IndexEvent[]): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  for (const e of events) {
    if (e.t === "ledger") {
      out.push(
        db
          .prepare(
            `INSERT OR IGNORE INTO ledger_mirror (account_id, entry_id, kind, amount, balance_after, ref, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .bind(e.accountId, e.entryId, e.kind, e.amount, e.balanceAfter, e.ref, e.createdAt),
      );
    } else if (e.t === "message") {
      out.push(
        db
          .prepare(
            `INSERT INTO message_index (message_id, sender_id, recipient_id, price, fee, status, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at
             WHERE excluded.updated_at >= message_index.updated_at`,
          )
          .bind(e.messageId, e.senderId, e.recipientId, e.price, e.fee, e.status, e.createdAt, e.updatedAt),
      );
    } else {
      out.push(
        db
          .prepare(
            `INSERT INTO account_totals (account_id, seq, balance, held, fees, topups, deposits, withdrawals, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (account_id) DO UPDATE SET seq = excluded.seq, balance = excluded.balance,
               held = excluded.held, fees = excluded.fees, topups = excluded.topups, deposits = excluded.deposits,
               withdrawals = excluded.withdrawals, updated_at = excluded.updated_at
             WHERE excluded.seq > account_totals.seq`,
          )
          .bind(e.accountId, e.seq, e.balance, e.held, e.fees, e.topups, e.deposits, e.withdrawals, Date.now()),
      );
    }
  }
  return out;
}

/** One D1 batch (one transaction) per queue batch; any failure retries the whole batch. */
export async function consumeIndexBatch(batch: MessageBatch<IndexMessage>, env: Env): Promise<void> {
  const statements = batch.messages.flatMap((m) => statementsFor(env.DB, m.body.events));
  try {
    if (statements.length) await env.DB.batch(statements);
    batch.ackAll();
  } catch (err) {
    console.error(`index batch failed (${batch.messages.length} messages): ${(err as Error).message}`);
    batch.retryAll({ delaySeconds: 5 });
  }
}

const SUM_FIELDS = ["topups", "deposits", "withdrawals", "balance", "held", "fees"] as const;

/** Totals over every Account's latest mirrored snapshot, summed as bigint. */
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
