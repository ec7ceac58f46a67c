// Chain mode inside an Account: the mirror of this user's vault balance, the
// payments they signed that are accepted but not yet settled, and the indexed
// vault events applied once each. See docs/architecture.md "Chain mode".
//
// The Account's `balance + held` is the confirmed vault balance as indexed; the
// `pending` column is the sum of accepted, unsettled payments. `held` is the
// part of pending the confirmed balance covers and `balance` (what a send may
// spend) is confirmed − held. Every change goes through `move()`, which books
// one ledger entry with the deltas that keep those identities, so conservation
// holds even when the wallet withdraws on chain money a payment was counting on.
import { type Address, createPublicClient, getAddress, type Hex, http, recoverTypedDataAddress } from "viem";
import {
  type ChainDomain,
  checkPayment,
  forViem,
  type IntentProblem,
  nextNonce,
  type PaymentMessage,
  typedPayment,
} from "../../worker/domain/payment-intent";
import { errorSummary } from "../../worker/observability/log";
import { coveredByClaim, type LogPosition, recordClaim } from "./chain-claims";
import { recordStatusChange } from "./outbox-flush";
import { chainAppliedFloor } from "./storage-bounds";
import type { LedgerKind, Tx } from "./types";

export const CHAIN_MIGRATION = `
  CREATE TABLE chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pending TEXT NOT NULL DEFAULT '0',
    chain_nonce TEXT NOT NULL DEFAULT '0'
  );
  INSERT INTO chain (id) VALUES (1);
  -- Vault events applied here, by txHash:logIndex (a replayed log is a no-op).
  CREATE TABLE chain_applied (ref TEXT PRIMARY KEY, applied_at INTEGER NOT NULL);
  -- A chain payment's hold: the signed SettleJob, its vault nonce, and what became of it.
  ALTER TABLE outbox ADD COLUMN settle_job TEXT;
  ALTER TABLE outbox ADD COLUMN pay_nonce TEXT;
  ALTER TABLE outbox ADD COLUMN pay_deadline INTEGER;
  ALTER TABLE outbox ADD COLUMN job_sent INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE outbox ADD COLUMN tx_hash TEXT;
  ALTER TABLE outbox ADD COLUMN failure TEXT;
  -- 1 while the recipient has not yet been told that this payment failed.
  ALTER TABLE outbox ADD COLUMN notify_failed INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE inbox ADD COLUMN failure TEXT;
  CREATE INDEX outbox_chain_open ON outbox (pay_nonce) WHERE settle_job IS NOT NULL AND hold_state IN ('held', 'onchain');
`;

/** What a chain-mode send carries from the Worker to the Accounts. */
export interface ChainPayment {
  payment: PaymentMessage;
  signature: Hex;
  domain: ChainDomain;
  /** The linked wallets (from D1), which the signed payment must name. */
  payerWallet: Address;
  recipientWallet: Address;
  /** For ERC-1271 / ERC-6492 payers; EOA signatures are checked locally. */
  rpcUrl: string | null;
  channel: number;
}

export type ChainFail =
  | { ok: false; code: "intent_mismatch"; field: string }
  | { ok: false; code: "intent_expired" }
  | { ok: false; code: "intent_stale"; nonce: string }
  | { ok: false; code: "invalid_signature" };

/**
 * Indexed vault events, as the indexer hands them to the Account(s) they concern.
 * `block` is the vault log's block (absent for the Account's own refs): an event
 * at or below the applied floor is a replay (account/storage-bounds.ts).
 * `logIndex` and `wallet` (the address whose funds the event moves here: the
 * deposit's or withdrawal's user, the payment's payer or recipient) tell an
 * event whose amount an unclaimed-funds claim already brought (account/chain-claims.ts).
 */
export type ChainEvent = { block?: number; logIndex?: number; wallet?: string } & (
  | { t: "deposit"; ref: string; amount: string }
  | { t: "withdraw"; ref: string; amount: string }
  | {
      t: "paid_out";
      ref: string;
      messageId: Hex;
      txHash: Hex;
      amount: string;
      fee: string;
      nonce: string;
      /** false when the recipient is no user of ours: the money leaves the books. */
      recipientKnown: boolean;
    }
  | { t: "paid_in"; ref: string; messageId: Hex; txHash: Hex; amount: string; fee: string; payerKnown: boolean }
  | { t: "skipped"; ref: string; messageId: Hex; nonce: string; reason: string }
  | { t: "failed_in"; ref: string; messageId: Hex; reason: string }
  /**
   * Funds that reached `wallet` before it was linked (see worker/chain/unclaimed.ts):
   * its events folded through `through`. Carries no `block` (the floor is for vault logs).
   */
  | { t: "claim"; ref: string; amount: string; wallet: string; through: LogPosition; block?: undefined }
);

export interface ChainApplied {
  applied: boolean;
  /** For `skipped`: the payment failed and its recipient is to be told (the Account does it, with retries). */
  recipientId?: string;
  /** For `skipped`: the payment came before its turn and goes back to the settle queue. */
  resend?: boolean;
}

type Row = Record<string, SqlStorageValue>;

export function chainRow(sql: SqlStorage): { pending: bigint; chainNonce: bigint } {
  const r = sql.exec("SELECT pending, chain_nonce FROM chain WHERE id = 1").one();
  return { pending: BigInt(r.pending as string), chainNonce: BigInt(r.chain_nonce as string) };
}

/** The vault nonce the next accepted payment must carry. */
export function expectedNonce(sql: SqlStorage): bigint {
  const open = sql
    .exec<{ n: string }>(
      "SELECT pay_nonce AS n FROM outbox WHERE settle_job IS NOT NULL AND hold_state IN ('held', 'onchain')",
    )
    .toArray()
    .map((r) => BigInt(r.n));
  return nextNonce(chainRow(sql).chainNonce, open);
}

/** What an intent needs: the next nonce (after noting the vault's, as the Worker just read it), what may be spent. */
export function intentView(sql: SqlStorage, available: bigint, vaultNonce: string | null) {
  if (vaultNonce !== null) noteChainNonce(sql, BigInt(vaultNonce));
  return { nonce: `${expectedNonce(sql)}`, available: `${available}`, pending: `${chainRow(sql).pending}` };
}

/** Accepted payments' SettleJobs, oldest nonce first. */
export function openJobs(sql: SqlStorage): unknown[] {
  return sql
    .exec<{ settle_job: string }>(
      "SELECT settle_job FROM outbox WHERE hold_state = 'onchain' ORDER BY CAST(pay_nonce AS INTEGER)",
    )
    .toArray()
    .map((r) => JSON.parse(r.settle_job));
}

/** Remember a nonce the chain is known to have reached (from an RPC read or an indexed payment). */
export function noteChainNonce(sql: SqlStorage, nonce: bigint): void {
  if (nonce > chainRow(sql).chainNonce) sql.exec("UPDATE chain SET chain_nonce = ? WHERE id = 1", `${nonce}`);
}

/**
 * Books one change of the confirmed vault balance (`dConfirmed`) and/or of the
 * pending payments (`dPending`) as a ledger entry whose deltas keep
 * held = min(pending, confirmed) and balance = confirmed − held.
 */
function move(
  sql: SqlStorage,
  tx: Tx,
  kind: LedgerKind,
  amount: bigint,
  ref: string,
  dConfirmed: bigint,
  dPending: bigint,
): void {
  const { s } = tx;
  let confirmed = s.balance + s.held + dConfirmed;
  if (confirmed < 0n) {
    // Only possible if a balance change reached the vault that we do not index; the chain is right.
    console.warn(`chain mirror below zero (${kind}); clamped`);
    confirmed = 0n;
  }
  const pending = chainRow(sql).pending + dPending;
  const held = pending < confirmed ? (pending > 0n ? pending : 0n) : confirmed;
  const balance = confirmed - held;
  tx.entry(kind, amount, { balance: balance - s.balance, held: held - s.held }, ref);
  sql.exec("UPDATE chain SET pending = ? WHERE id = 1", `${pending < 0n ? 0n : pending}`);
}

/** The synchronous half of checking a chain payment at debit time; the signature is checked apart. */
export function checkChainDebit(
  sql: SqlStorage,
  c: ChainPayment,
  messageId: Hex,
  body: string,
  price: bigint,
): ChainFail | null {
  const problem: IntentProblem | null = checkPayment(c.payment, {
    payer: c.payerWallet,
    recipient: c.recipientWallet,
    messageId,
    body,
    amount: price,
    nonce: expectedNonce(sql),
    nowSeconds: Math.floor(Date.now() / 1000),
  });
  if (!problem) return null;
  return { ok: false, ...problem } as ChainFail;
}

/** EOA signatures are recovered locally; otherwise an ERC-1271 / ERC-6492 wallet is asked through the RPC. */
export async function signatureValid(c: ChainPayment): Promise<boolean> {
  const typed = forViem(typedPayment(c.domain, c.payment));
  try {
    const signer = await recoverTypedDataAddress({ ...typed, signature: c.signature });
    if (signer === getAddress(c.payment.payer)) return true;
  } catch {
    // Not a 65-byte ECDSA signature: may still be a smart account's.
  }
  if (!c.rpcUrl) return false;
  try {
    const client = createPublicClient({ transport: http(c.rpcUrl) });
    return await client.verifyTypedData({ address: getAddress(c.payment.payer), ...typed, signature: c.signature });
  } catch {
    return false;
  }
}

/** Inside the debit's commit: the outbox row becomes a chain hold carrying its SettleJob. */
export function holdChainPayment(sql: SqlStorage, messageId: string, c: ChainPayment, total: bigint): void {
  const job = { payment: c.payment, signature: c.signature, channel: c.channel };
  sql.exec(
    "UPDATE outbox SET settle_job = ?, pay_nonce = ?, pay_deadline = ? WHERE message_id = ?",
    JSON.stringify(job),
    c.payment.nonce,
    Number(c.payment.deadline),
    messageId,
  );
  const { pending } = chainRow(sql);
  sql.exec("UPDATE chain SET pending = ? WHERE id = 1", `${pending + total}`);
}

/**
 * The recipient committed a chain payment: it waits for settlement ('onchain')
 * instead of being booked as sent. True if `messageId` was such a hold.
 */
export function markAccepted(sql: SqlStorage, messageId: string, now: number): boolean {
  return (
    sql
      .exec(
        `UPDATE outbox SET hold_state = 'onchain', status = 'accepted', updated_at = ?
         WHERE message_id = ? AND hold_state = 'held' AND settle_job IS NOT NULL RETURNING seq`,
        now,
        messageId,
      )
      .toArray().length === 1
  );
}

/** A chain hold the recipient never took (the stale-hold alarm): release it. True if it was one. */
export function releaseChainHold(sql: SqlStorage, tx: Tx, row: Row): boolean {
  if (row.settle_job === null || row.settle_job === undefined) return false;
  const total = BigInt(row.price as string) + BigInt(row.fee as string);
  move(sql, tx, "refund", total, row.message_id as string, 0n, -total);
  return true;
}

/** Accepted payments whose signed deadline is before `chainTime` (unix seconds). */
export function pastDeadline(sql: SqlStorage, chainTime: number): { messageId: Hex; deadline: number }[] {
  return sql
    .exec<{ message_id: Hex; pay_deadline: number }>(
      "SELECT message_id, pay_deadline FROM outbox WHERE hold_state = 'onchain' AND pay_deadline < ? LIMIT 50",
      chainTime,
    )
    .toArray()
    .map((r) => ({ messageId: r.message_id, deadline: r.pay_deadline }));
}

/** The earliest deadline among accepted payments (unix seconds), for the alarm. */
export function nextDeadline(sql: SqlStorage): number | null {
  return sql.exec<{ d: number | null }>("SELECT MIN(pay_deadline) AS d FROM outbox WHERE hold_state = 'onchain'").one()
    .d;
}

/** Failed payments whose recipient has not yet been told. */
export function failureNotices(sql: SqlStorage): { messageId: Hex; recipientId: string; reason: string }[] {
  return sql
    .exec<{ message_id: Hex; recipient_id: string; failure: string | null }>(
      "SELECT message_id, recipient_id, failure FROM outbox WHERE notify_failed = 1 LIMIT 50",
    )
    .toArray()
    .map((r) => ({ messageId: r.message_id, recipientId: r.recipient_id, reason: r.failure ?? "unknown" }));
}

export function failureNoticed(sql: SqlStorage, messageId: string): void {
  sql.exec("UPDATE outbox SET notify_failed = 0 WHERE message_id = ?", messageId);
}

/** SettleJobs of accepted payments not yet handed to the `settle` queue. */
export function unsentJobs(sql: SqlStorage, limit = 50): { messageId: string; job: unknown }[] {
  return sql
    .exec<{ message_id: string; settle_job: string }>(
      "SELECT message_id, settle_job FROM outbox WHERE hold_state = 'onchain' AND job_sent = 0 ORDER BY CAST(pay_nonce AS INTEGER) LIMIT ?",
      limit,
    )
    .toArray()
    .map((r) => ({ messageId: r.message_id, job: JSON.parse(r.settle_job) }));
}

function markJobsSent(sql: SqlStorage, messageIds: string[]): void {
  for (const id of messageIds) sql.exec("UPDATE outbox SET job_sent = 1 WHERE message_id = ?", id);
}

/**
 * Sends every unsent SettleJob to the `settle` queue, 50 a batch; false if the
 * queue refused (the caller retries later). The caller shares one run between
 * concurrent callers and must clear it from `.finally` on the returned promise:
 * cleared inside the run, a run with nothing to send would finish before it was
 * stored, and that settled promise would then stand in for every later call —
 * no SettleJob would reach the queue again until the object restarted.
 */
export async function sendUnsentJobs(sql: SqlStorage, queue: Queue): Promise<boolean> {
  for (;;) {
    const jobs = unsentJobs(sql);
    if (!jobs.length) return true;
    try {
      await queue.sendBatch(jobs.map((j) => ({ body: j.job, contentType: "json" as const })));
    } catch (err) {
      console.warn(`settle queue send failed, will retry: ${errorSummary(err)}`);
      return false;
    }
    markJobsSent(
      sql,
      jobs.map((j) => j.messageId),
    );
  }
}

/** Applies one indexed vault event to this Account, once. Runs inside a commit. */
export function applyChainEvent(sql: SqlStorage, tx: Tx, ev: ChainEvent, now: number): ChainApplied {
  if (ev.block !== undefined && ev.block <= chainAppliedFloor(sql)) return { applied: false };
  if (inAClaim(sql, ev)) return { applied: false };
  if (sql.exec("SELECT 1 FROM chain_applied WHERE ref = ?", ev.ref).toArray().length) return { applied: false };
  sql.exec("INSERT INTO chain_applied (ref, applied_at, block) VALUES (?, ?, ?)", ev.ref, now, ev.block ?? null);
  switch (ev.t) {
    case "deposit":
    case "claim": {
      const a = BigInt(ev.amount);
      if (ev.t === "claim") {
        // In the claim's own commit: exactly-once across a crash between the two.
        recordClaim(sql, ev.wallet, ev.through, now);
        // Events that netted to nothing: no ledger entry, but their position is known.
        if (a === 0n) return { applied: true };
      }
      tx.s.deposits += a;
      move(sql, tx, "deposit", a, ev.ref, a, 0n);
      return { applied: true };
    }
    case "withdraw": {
      const a = BigInt(ev.amount);
      tx.s.withdrawals += a;
      move(sql, tx, "withdraw", a, ev.ref, -a, 0n);
      return { applied: true };
    }
    case "paid_out":
      return paidOut(sql, tx, ev, now);
    case "paid_in":
      return paidIn(sql, tx, ev, now);
    case "skipped":
      return skipped(sql, tx, ev, now);
    case "failed_in": {
      const m = sql
        .exec(
          "UPDATE inbox SET status = 'payment_failed', failure = ? WHERE message_id = ? AND status = 'accepted' RETURNING *",
          ev.reason,
          ev.messageId,
        )
        .toArray()[0];
      if (m) messageEvent(sql, tx, m, "payment_failed", now);
      return { applied: true };
    }
  }
}

/**
 * A claim this Account applied already (by position, so a retry is known even
 * once its ref is pruned), or a vault log of a claimed wallet at or before the
 * position its claim covers: its amount is in that claim (an ops reindex).
 */
function inAClaim(sql: SqlStorage, ev: ChainEvent): boolean {
  if (ev.t === "claim") return coveredByClaim(sql, ev.wallet, ev.through);
  if (ev.wallet === undefined || ev.block === undefined || ev.logIndex === undefined) return false;
  return coveredByClaim(sql, ev.wallet, { block: ev.block, logIndex: ev.logIndex });
}

function paidOut(sql: SqlStorage, tx: Tx, ev: Extract<ChainEvent, { t: "paid_out" }>, now: number): ChainApplied {
  noteChainNonce(sql, BigInt(ev.nonce) + 1n);
  const price = BigInt(ev.amount);
  const fee = BigInt(ev.fee);
  const hold = sql
    .exec("SELECT hold_state FROM outbox WHERE message_id = ? AND settle_job IS NOT NULL", ev.messageId)
    .toArray()[0];
  // An open hold is part of pending; a released one (a receipt after we had given up on it) is not.
  const open = hold?.hold_state === "held" || hold?.hold_state === "onchain";
  if (hold) {
    sql.exec(
      `UPDATE outbox SET hold_state = 'settled', status = 'paid', tx_hash = ?, failure = NULL, updated_at = ?
       WHERE message_id = ?`,
      ev.txHash,
      now,
      ev.messageId,
    );
  }
  // Paid to an address that is no user of ours: the money leaves our books.
  if (!ev.recipientKnown) tx.s.withdrawals += price + fee;
  move(sql, tx, "send", price, ev.messageId, -price, open ? -price : 0n);
  move(sql, tx, "fee", fee, ev.messageId, -fee, open ? -fee : 0n);
  return { applied: true };
}

function paidIn(sql: SqlStorage, tx: Tx, ev: Extract<ChainEvent, { t: "paid_in" }>, now: number): ChainApplied {
  const price = BigInt(ev.amount);
  const fee = BigInt(ev.fee);
  const m = sql
    .exec(
      "UPDATE inbox SET status = 'paid', tx_hash = ?, failure = NULL WHERE message_id = ? RETURNING *",
      ev.txHash,
      ev.messageId,
    )
    .toArray()[0];
  if (m) messageEvent(sql, tx, m, "paid", now);
  if (ev.payerKnown) {
    move(sql, tx, "receive", price, ev.messageId, price, 0n);
    // The platform's fee is accrued here, as in simulated mode: no treasury object.
    tx.entry("fee", fee, { fees: fee }, ev.messageId);
  } else {
    // From an address that is no user of ours: new money on our books, like a deposit.
    tx.s.deposits += price;
    move(sql, tx, "deposit", price, ev.ref, price, 0n);
  }
  return { applied: true };
}

function skipped(sql: SqlStorage, tx: Tx, ev: Extract<ChainEvent, { t: "skipped" }>, now: number): ChainApplied {
  const row = sql
    .exec(
      "SELECT message_id, recipient_id, price, fee, hold_state FROM outbox WHERE message_id = ? AND settle_job IS NOT NULL",
      ev.messageId,
    )
    .toArray()[0];
  // Not ours, already paid (a duplicate submission skipped after the first paid) or already released.
  if (!row || (row.hold_state !== "held" && row.hold_state !== "onchain")) return { applied: true };
  // Submitted before an earlier accepted payment of ours settled (batches out of order): not a
  // failure yet. Its turn comes when that one settles; if that one fails instead, so does this.
  if (ev.reason === "InvalidNonce" && earlierOpen(sql, BigInt(ev.nonce))) {
    sql.exec("UPDATE outbox SET job_sent = 0 WHERE message_id = ?", ev.messageId);
    return { applied: true, resend: true };
  }
  sql.exec(
    `UPDATE outbox SET hold_state = 'released', status = 'payment_failed', failure = ?, notify_failed = 1, updated_at = ?
     WHERE message_id = ?`,
    ev.reason,
    now,
    ev.messageId,
  );
  const total = BigInt(row.price as string) + BigInt(row.fee as string);
  move(sql, tx, "refund", total, ev.messageId, 0n, -total);
  return { applied: true, recipientId: row.recipient_id as string };
}

/** Whether an accepted payment with a lower nonce is still open. */
function earlierOpen(sql: SqlStorage, nonce: bigint): boolean {
  return sql
    .exec<{ n: string }>(
      "SELECT pay_nonce AS n FROM outbox WHERE settle_job IS NOT NULL AND hold_state IN ('held', 'onchain')",
    )
    .toArray()
    .some((r) => BigInt(r.n) < nonce);
}

/** A received message's status change, for the next flush batch (archive and D1 totals). */
function messageEvent(sql: SqlStorage, tx: Tx, m: Row, status: string, now: number): void {
  recordStatusChange(sql, {
    messageId: m.message_id as string,
    senderId: m.sender_id as string,
    recipientId: tx.s.userId,
    price: m.price as string,
    fee: m.fee as string,
    status,
    createdAt: m.created_at as number,
    updatedAt: now,
  });
}
