// The `index` queue: Account events batched into D1. Every write is keyed by
// what caused it, so a redelivered or reordered batch changes nothing twice.
import type { IndexEvent } from "../../durable-objects/account";
import { log, metric } from "../observability/log";

export interface IndexMessage {
  events: IndexEvent[];
}

type LedgerEvent = Extract<IndexEvent, { t: "ledger" }>;
type MessageEvent = Extract<IndexEvent, { t: "message" }>;
type TotalsEvent = Extract<IndexEvent, { t: "totals" }>;

/** D1 takes at most 100 bound parameters per statement: rows per multi-row INSERT. */
const MAX_PARAMS = 100;
/** Statements per D1 batch: small enough that one batch never stalls the requests sharing the database. */
const STATEMENTS_PER_BATCH = 25;

function multiRow<T>(
  db: D1Database,
  rows: T[],
  columns: number,
  head: string,
  tail: string,
  values: (row: T) => unknown[],
): D1PreparedStatement[] {
  const perStatement = Math.floor(MAX_PARAMS / columns);
  const tuple = `(${Array(columns).fill("?").join(", ")})`;
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    out.push(db.prepare(`${head} VALUES ${chunk.map(() => tuple).join(", ")} ${tail}`).bind(...chunk.flatMap(values)));
  }
  return out;
}

export function statementsFor(db: D1Database, events: IndexEvent[]): D1PreparedStatement[] {
  const ledger = events.filter((e): e is LedgerEvent => e.t === "ledger");
  const messages = events.filter((e): e is MessageEvent => e.t === "message");
  // Only each Account's newest totals matter.
  const totals = new Map<string, TotalsEvent>();
  for (const e of events) {
    if (e.t === "totals" && (totals.get(e.accountId)?.seq ?? -1) < e.seq) totals.set(e.accountId, e);
  }
  return [
    ...multiRow(
      db,
      ledger,
      7,
      "INSERT OR IGNORE INTO ledger_mirror (account_id, entry_id, kind, amount, balance_after, ref, created_at)",
      "",
      (e) => [e.accountId, e.entryId, e.kind, e.amount, e.balanceAfter, e.ref, e.createdAt],
    ),
    ...multiRow(
      db,
      messages,
      8,
      "INSERT INTO message_index (message_id, sender_id, recipient_id, price, fee, status, created_at, updated_at)",
      `ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at
       WHERE excluded.updated_at >= message_index.updated_at`,
      (e) => [e.messageId, e.senderId, e.recipientId, e.price, e.fee, e.status, e.createdAt, e.updatedAt],
    ),
    ...multiRow(
      db,
      [...totals.values()],
      10,
      "INSERT INTO account_totals (account_id, seq, balance, held, fees, topups, deposits, withdrawals, audit_head, updated_at)",
      `ON CONFLICT (account_id) DO UPDATE SET seq = excluded.seq, balance = excluded.balance,
         held = excluded.held, fees = excluded.fees, topups = excluded.topups, deposits = excluded.deposits,
         withdrawals = excluded.withdrawals, audit_head = excluded.audit_head, updated_at = excluded.updated_at
       WHERE excluded.seq > account_totals.seq`,
      (e) => [
        e.accountId,
        e.seq,
        e.balance,
        e.held,
        e.fees,
        e.topups,
        e.deposits,
        e.withdrawals,
        e.auditHead ?? null,
        Date.now(),
      ],
    ),
  ];
}

/**
 * Writes a queue batch in small D1 batches (each its own transaction). Every
 * statement is idempotent, so if one fails the whole queue batch is retried
 * and what already landed is simply written again.
 */
export async function consumeIndexBatch(batch: MessageBatch<IndexMessage>, env: Env): Promise<void> {
  const events = batch.messages.flatMap((m) => m.body.events);
  const statements = statementsFor(env.DB, events);
  try {
    for (let i = 0; i < statements.length; i += STATEMENTS_PER_BATCH) {
      await env.DB.batch(statements.slice(i, i + STATEMENTS_PER_BATCH));
    }
    batch.ackAll();
    refundMetrics(env, events);
  } catch (err) {
    log("error", "index batch failed, retrying", { messages: batch.messages.length, error: (err as Error).name });
    metric(env, { kind: "queue_retry", label: "index", count: batch.messages.length });
    batch.retryAll({ delaySeconds: 5 });
  }
}

/** Refunds are counted here, off the send path, from the ledger entries the Accounts flush. */
function refundMetrics(env: Env, events: IndexEvent[]): void {
  for (const e of events) {
    if (e.t === "ledger" && e.kind === "refund") metric(env, { kind: "refund", amount: BigInt(e.amount) });
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
