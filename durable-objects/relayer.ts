// Relayer Durable Object: the one owner of the relayer account's nonce and its
// in-flight transactions (chain mode). The `settle` queue consumer hands it signed
// payments (`enqueue`); its alarm puts them on chain in `settleBatchPacked`
// transactions of up to 50, polls for receipts, re-sends a transaction the mempool
// dropped (same bytes), replaces a stuck one with a higher fee (same nonce, same
// calldata), and never gives a nonce to a second batch: a nonce's calldata is fixed
// when its row is written. It only ensures inclusion — the indexed
// `MessagePaid` / `PaymentSkipped` events decide each message's fate — except
// for a payment whose transactions kept reverting (MAX_JOB_ATTEMPTS): nothing
// about it reaches the chain, so the relayer tells the payer's Account itself
// (`SettlementReverted`: payment_failed, hold released, recipient told).
//
// Concurrency: only the alarm sends transactions (alarms never overlap), and every
// state change is one transactionSync with no await inside; `enqueue` may
// interleave at the alarm's awaits but only adds queued jobs. A signed transaction
// is written down before it is broadcast, so a crash can only lead to sending the
// same bytes again.
import { DurableObject } from "cloudflare:workers";
import { type Address, createPublicClient, getAddress, type Hex, http, keccak256, type PublicClient } from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { settleTransaction } from "../worker/chain/packed-batch";
import type { SettleJob } from "../worker/chain/settle-job";
import { usersByWallet } from "../worker/chain/wallets";
import { errorSummary } from "../worker/observability/log";
import {
  type AttemptRow,
  attemptsOf,
  countJobs,
  failedJobs,
  getMeta,
  insertAttempt,
  insertJobs,
  insertTx,
  markBroadcast,
  markMined,
  markReported,
  markSuperseded,
  migrate,
  pendingTxs,
  queuedJobs,
  recentTxs,
  SETTLEMENT_REVERTED,
  setMeta,
  type TxRow,
} from "./relayer/store";

/** Where and how the relayer settles; from the Worker's vars, or `configure()`. */
export interface RelayerSettings {
  rpcUrl: string;
  chainId: number;
  vault: Address;
  /** How often in-flight transactions are checked. */
  pollMs: number;
  /** A transaction not mined this long after its last broadcast gets a higher fee. */
  stuckMs: number;
  /** Transactions in flight at once (consecutive nonces). */
  maxInFlight: number;
  /** Payments per transaction (the vault's gas target is set at 50). */
  batchSize: number;
  /** Fee increase of a replacement, percent (nodes require ≥ 10). */
  feeBumpPercent: number;
  /** Never offer more than this per gas (wei), however long a transaction is stuck. */
  maxFeeCapWei: string;
  /**
   * How long a nonce must look used by someone else (the chain's count is past it, no
   * receipt for any of our attempts) before its payments are queued again: a load-balanced
   * RPC can report the count before it serves the receipt, and re-sending a batch that was
   * in fact mined would only add PaymentSkipped (InvalidNonce) events.
   */
  supersededAfterMs: number;
}

export const RELAYER_DEFAULTS = {
  pollMs: 1_000,
  stuckMs: 30_000,
  maxInFlight: 4,
  batchSize: 50,
  feeBumpPercent: 25,
  maxFeeCapWei: "1000000000000", // 1,000 gwei
  supersededAfterMs: 60_000,
} satisfies Partial<RelayerSettings>;

/** Retry delay after a failed tick (RPC down) or a batch that would revert (vault paused). */
const RETRY_MS = 5_000;
/** Given-up payments reported to their Accounts per alarm run. */
const REPORT_BATCH = 50;
/** Keep each transaction's gas limit well under a block's (ERC-1271 entries reserve 560k each). */
const MAX_TX_GAS = 12_000_000n;

export interface RelayerAttempt {
  hash: Hex;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  sentAt: number;
  broadcasts: number;
}

export interface RelayerTx {
  nonce: number;
  state: TxRow["state"];
  payments: number;
  createdAt: number;
  minedHash: Hex | null;
  blockNumber: number | null;
  gasUsed: string | null;
  attempts: RelayerAttempt[];
}

export interface RelayerStatus {
  configured: boolean;
  relayer: Address | null;
  chainId: number | null;
  vault: Address | null;
  nextNonce: number | null;
  queued: number;
  /** Given up (transactions kept reverting), payer's Account not told yet. */
  failed: number;
  /** Given up and reported to the payer's Account (payment_failed there). */
  reported: number;
  inFlight: RelayerTx[];
  recent: RelayerTx[];
  lastError: string | null;
}

export class Relayer extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => migrate(this.sql));
  }

  /** Accepts signed payments from the settle queue (a redelivered one is ignored) and wakes the sender. */
  async enqueue(jobs: SettleJob[]): Promise<{ added: number }> {
    const added = insertJobs(this.sql, jobs, Date.now());
    await this.wake(Date.now());
    return { added };
  }

  /** Overrides settings (chain coordinates, timings); null clears the overrides. Used by tests and the bench. */
  async configure(settings: Partial<RelayerSettings> | null): Promise<void> {
    setMeta(this.sql, "settings", JSON.stringify(settings ?? {}));
    await this.wake(Date.now());
  }

  /** In-flight and recent transactions, for ops. */
  async status(): Promise<RelayerStatus> {
    const s = this.settings();
    const account = this.account();
    const tx = (row: TxRow): RelayerTx => ({
      nonce: row.nonce,
      state: row.state,
      payments: row.job_count,
      createdAt: row.created_at,
      minedHash: row.mined_hash,
      blockNumber: row.block_number,
      gasUsed: row.gas_used,
      attempts: attemptsOf(this.sql, row.nonce).map((a) => ({
        hash: a.hash,
        maxFeePerGas: a.max_fee,
        maxPriorityFeePerGas: a.priority_fee,
        sentAt: a.sent_at,
        broadcasts: a.broadcasts,
      })),
    });
    const next = getMeta(this.sql, "next_nonce");
    return {
      configured: s !== null && account !== null,
      relayer: account?.address ?? null,
      chainId: s?.chainId ?? null,
      vault: s?.vault ?? null,
      nextNonce: next === null ? null : Number(next),
      queued: countJobs(this.sql, "queued"),
      failed: countJobs(this.sql, "failed"),
      reported: countJobs(this.sql, "reported"),
      inFlight: pendingTxs(this.sql).map(tx),
      recent: recentTxs(this.sql, 20)
        .filter((r) => r.state !== "pending")
        .map(tx),
      lastError: getMeta(this.sql, "last_error"),
    };
  }

  async alarm(): Promise<void> {
    let next: number | null;
    try {
      next = await this.tick();
    } catch (err) {
      this.recordError(err);
      next = Date.now() + RETRY_MS;
    }
    // Needs no RPC: runs even when the chain is unreachable.
    if (await this.reportFailed()) next = Math.min(next ?? Number.POSITIVE_INFINITY, Date.now() + RETRY_MS);
    if (next !== null) await this.wake(next);
  }

  /**
   * Tells each payer's Account about payments given up on (their transactions kept
   * reverting), as a skip the chain will never emit. Returns true while some are
   * left to tell (an Account unreachable, or more than one round's worth).
   */
  private async reportFailed(): Promise<boolean> {
    const failed = failedJobs(this.sql, REPORT_BATCH);
    if (failed.length === 0) return false;
    let owners: Map<Address, string>;
    try {
      owners = await usersByWallet(
        this.env,
        failed.map((f) => f.job.payment.payer),
      );
    } catch (err) {
      this.recordError(err);
      return true;
    }
    let untold = failed.length === REPORT_BATCH;
    for (const { id, job } of failed) {
      const p = job.payment;
      const userId = owners.get(getAddress(p.payer));
      try {
        // No user for the payer (a job queued by hand): nobody to tell.
        if (userId) {
          await this.env.ACCOUNT.getByName(userId).chainApply({
            t: "skipped",
            ref: `relayer-failed:${p.messageId}`,
            messageId: p.messageId,
            nonce: p.nonce,
            reason: SETTLEMENT_REVERTED,
          });
        }
        markReported(this.sql, id);
      } catch (err) {
        this.recordError(err);
        untold = true;
      }
    }
    return untold;
  }

  // ── one round: receipts, drops, replacements, then new batches ─────────────

  /** Returns when to run again, or null when there is nothing to watch. */
  private async tick(): Promise<number | null> {
    const s = this.settings();
    const account = this.account();
    if (!s || !account) return null; // not configured: jobs wait (queue consumer logs it)
    const client = createPublicClient({ transport: http(s.rpcUrl, { retryCount: 0, timeout: 10_000 }) });
    await this.checkInFlight(client, account, s);
    const blocked = await this.submit(client, account, s);
    const now = Date.now();
    if (blocked) return now + RETRY_MS;
    if (pendingTxs(this.sql).length > 0) return now + s.pollMs;
    return countJobs(this.sql, "queued") > 0 ? now : null;
  }

  private async checkInFlight(client: PublicClient, account: PrivateKeyAccount, s: RelayerSettings): Promise<void> {
    const txs = pendingTxs(this.sql);
    if (txs.length === 0) return;
    const mined = Number(
      await client.request({ method: "eth_getTransactionCount", params: [account.address, "latest"] }),
    );
    let head = true;
    for (const tx of txs) {
      const attempts = attemptsOf(this.sql, tx.nonce);
      if (await this.settleIfMined(client, tx, attempts)) continue;
      if (tx.nonce < mined) {
        // The nonce is used, by none of our attempts so far: give the receipt time to show up.
        const key = `gone:${tx.nonce}`;
        const since = Number(getMeta(this.sql, key) ?? Date.now());
        if (Date.now() - since < s.supersededAfterMs) setMeta(this.sql, key, String(since));
        else this.ctx.storage.transactionSync(() => markSuperseded(this.sql, tx.nonce));
        continue;
      }
      const latest = attempts[0];
      const known = await client.request({ method: "eth_getTransactionByHash", params: [latest.hash] });
      if (known === null) {
        // Dropped from the mempool (or never arrived): the same signed bytes again.
        await this.broadcast(client, latest);
      } else if (Date.now() - latest.sent_at >= s.stuckMs && (head || (await this.underpriced(client, latest)))) {
        // Only the first pending nonce can be stuck on its own; later ones wait behind it unless
        // their fee no longer covers the base fee.
        await this.replace(client, account, s, tx, latest);
      }
      head = false;
    }
  }

  /** Records the receipt of whichever attempt was mined; false if none was. */
  private async settleIfMined(client: PublicClient, tx: TxRow, attempts: AttemptRow[]): Promise<boolean> {
    for (const a of attempts) {
      const r = await client.request({ method: "eth_getTransactionReceipt", params: [a.hash] });
      if (!r) continue;
      this.ctx.storage.transactionSync(() =>
        markMined(this.sql, tx.nonce, {
          hash: a.hash,
          blockNumber: Number(r.blockNumber),
          gasUsed: BigInt(r.gasUsed),
          success: r.status === "0x1",
        }),
      );
      if (r.status !== "0x1") this.recordError(new Error(`settle transaction ${a.hash} reverted; payments re-queued`));
      return true;
    }
    return false;
  }

  /** Same nonce, same calldata, higher fees. */
  private async replace(
    client: PublicClient,
    account: PrivateKeyAccount,
    s: RelayerSettings,
    tx: TxRow,
    latest: AttemptRow,
  ): Promise<void> {
    const market = await this.fees(client);
    const bump = (wei: bigint) => (wei * BigInt(100 + s.feeBumpPercent)) / 100n + 1n;
    const priorityFee = max(bump(BigInt(latest.priority_fee)), market.priorityFee);
    const maxFee = max(bump(BigInt(latest.max_fee)), market.baseFee * 2n + priorityFee);
    if (maxFee > BigInt(s.maxFeeCapWei)) {
      this.recordError(new Error(`transaction ${tx.nonce} stuck at the fee cap; not raising further`));
      return;
    }
    const raw = await account.signTransaction({
      type: "eip1559",
      chainId: s.chainId,
      nonce: tx.nonce,
      to: s.vault,
      data: tx.data,
      gas: BigInt(tx.gas),
      maxFeePerGas: maxFee,
      maxPriorityFeePerGas: priorityFee,
      value: 0n,
    });
    const attempt = { hash: keccak256(raw), raw, maxFee, priorityFee };
    this.ctx.storage.transactionSync(() => insertAttempt(this.sql, tx.nonce, attempt, Date.now()));
    await this.broadcast(client, { hash: attempt.hash, raw });
  }

  /** New transactions for queued jobs while fewer than `maxInFlight` are pending. True if blocked. */
  private async submit(client: PublicClient, account: PrivateKeyAccount, s: RelayerSettings): Promise<boolean> {
    while (pendingTxs(this.sql).length < s.maxInFlight) {
      const rows = queuedJobs(this.sql, s.batchSize);
      if (rows.length === 0) return false;
      inPayerNonceOrder(rows);
      let { data, gas } = await settleTransaction(
        rows.map((r) => r.job),
        s.chainId,
        s.vault,
      );
      // Many ERC-1271 payers: fewer payments in this transaction, the rest in the next.
      while (gas > MAX_TX_GAS && rows.length > 1) {
        rows.splice(Math.ceil(rows.length / 2));
        ({ data, gas } = await settleTransaction(
          rows.map((r) => r.job),
          s.chainId,
          s.vault,
        ));
      }
      // Payments that cannot settle are skipped on chain, never reverted: a reverting call means the
      // vault refuses every batch (paused) — wait rather than burn the fee.
      try {
        await client.request({ method: "eth_call", params: [{ from: account.address, to: s.vault, data }, "latest"] });
      } catch (err) {
        this.recordError(err);
        return true;
      }
      const fees = await this.fees(client);
      const nonce = await this.nextNonce(client, account.address);
      const raw = await account.signTransaction({
        type: "eip1559",
        chainId: s.chainId,
        nonce,
        to: s.vault,
        data,
        gas,
        maxFeePerGas: fees.baseFee * 2n + fees.priorityFee,
        maxPriorityFeePerGas: fees.priorityFee,
        value: 0n,
      });
      const hash = keccak256(raw);
      this.ctx.storage.transactionSync(() => {
        insertTx(
          this.sql,
          { nonce, data, gas, jobIds: rows.map((r) => r.id) },
          { hash, raw, maxFee: fees.baseFee * 2n + fees.priorityFee, priorityFee: fees.priorityFee },
          Date.now(),
        );
        setMeta(this.sql, "next_nonce", String(nonce + 1));
      });
      await this.broadcast(client, { hash, raw });
    }
    return false;
  }

  /** The nonce for a new transaction: ours, or the chain's if the key was used elsewhere. */
  private async nextNonce(client: PublicClient, address: Address): Promise<number> {
    const stored = getMeta(this.sql, "next_nonce");
    const tag = stored === null ? "pending" : "latest";
    const chain = Number(await client.request({ method: "eth_getTransactionCount", params: [address, tag] }));
    return stored === null ? chain : Math.max(Number(stored), chain);
  }

  private async broadcast(client: PublicClient, a: { hash: Hex; raw: Hex }): Promise<void> {
    try {
      await client.request({ method: "eth_sendRawTransaction", params: [a.raw] });
    } catch (err) {
      const msg = errorText(err).toLowerCase();
      // Already there, already mined, or a higher-fee attempt of ours is there: the next check decides.
      const benign = /already known|already imported|known transaction|nonce too low|underpriced|replacement/;
      if (!benign.test(msg)) this.recordError(err);
    }
    this.ctx.storage.transactionSync(() => markBroadcast(this.sql, a.hash, Date.now()));
  }

  private async fees(client: PublicClient): Promise<{ baseFee: bigint; priorityFee: bigint }> {
    const [block, priority] = await Promise.all([
      client.request({ method: "eth_getBlockByNumber", params: ["latest", false] }),
      client.request({ method: "eth_maxPriorityFeePerGas" }).catch(() => "0x3b9aca00" as const), // 1 gwei
    ]);
    return { baseFee: BigInt(block?.baseFeePerGas ?? 0n), priorityFee: BigInt(priority) };
  }

  private async underpriced(client: PublicClient, a: AttemptRow): Promise<boolean> {
    return BigInt(a.max_fee) < (await this.fees(client)).baseFee;
  }

  // ── settings, key, alarm ─────────────────────────────────────────────────

  private settings(): RelayerSettings | null {
    const overrides = JSON.parse(getMeta(this.sql, "settings") ?? "{}") as Partial<RelayerSettings>;
    const s = {
      ...RELAYER_DEFAULTS,
      rpcUrl: this.env.CHAIN_RPC_URL,
      chainId: Number(this.env.CHAIN_ID || 31337),
      vault: this.env.VAULT_ADDRESS as Address,
      ...overrides,
    };
    return s.rpcUrl && /^0x[0-9a-fA-F]{40}$/.test(s.vault ?? "") ? s : null;
  }

  private account(): PrivateKeyAccount | null {
    const key = this.env.RELAYER_PRIVATE_KEY;
    return key && /^0x[0-9a-fA-F]{64}$/.test(key) ? privateKeyToAccount(key as Hex) : null;
  }

  /** Runs the alarm at `at` unless it is already due sooner. */
  private async wake(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private recordError(err: unknown): void {
    // The node's own error text when there is one; else errorSummary (an RPC URL may carry an API key).
    const text = errorText(err).slice(0, 300);
    setMeta(this.sql, "last_error", `${new Date().toISOString()} ${text}`);
    console.error("relayer:", text);
  }
}

/**
 * A payer's payments must reach the vault in nonce order (the queue does not
 * promise order): each payer's jobs are sorted by nonce into the positions its
 * jobs already hold, so other payers keep their queue order.
 */
function inPayerNonceOrder(rows: { id: number; job: SettleJob }[]): void {
  const byPayer = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const key = r.job.payment.payer.toLowerCase();
    byPayer.set(key, [...(byPayer.get(key) ?? []), i]);
  });
  for (const positions of byPayer.values()) {
    if (positions.length < 2) continue;
    const sorted = positions
      .map((i) => rows[i])
      .sort((a, b) => {
        const d = BigInt(a.job.payment.nonce) - BigInt(b.job.payment.nonce);
        return d < 0n ? -1 : d > 0n ? 1 : a.id - b.id;
      });
    positions.forEach((pos, k) => {
      rows[pos] = sorted[k];
    });
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function errorText(err: unknown): string {
  if (err && typeof err === "object" && "details" in err && typeof err.details === "string") return err.details;
  return errorSummary(err);
}
