// The chain indexer (Cron Trigger, LEDGER_MODE=chain): reads the vault's events
// in bounded block ranges from the D1 checkpoint up to `head − CONFIRMATIONS`,
// applies each to the Account(s) it concerns, and only then moves the
// checkpoint (block number + hash). Accounts remember the `txHash:logIndex` they
// applied, so a range read twice (a crash, an RPC error, a rewind) changes
// nothing twice. A checkpoint whose block hash changed means a reorg deeper than
// CONFIRMATIONS: the checkpoint is rewound and the range read again.
// The indexed events decide every chain payment's fate, not the relayer's receipts.
import { type Address, createPublicClient, getAddress, type Hex, http, toFunctionSelector } from "viem";
import type { ChainEvent } from "../../durable-objects/account/chain";
import { ApiError } from "../http/errors";
import { errorSummary } from "../observability/log";
import { vaultAbi } from "./abis";
import { type ChainConfig, chainConfig } from "./config";
import { type IndexerLease, releaseLease, renewLease, takeLease } from "./indexer-lease";
import { claimUnclaimed, foldUnclaimed } from "./unclaimed";
import { usersByWallet } from "./wallets";

const EVENT_NAMES = ["Deposited", "Withdrawn", "MessagePaid", "PaymentSkipped"] as const;
const EVENTS = vaultAbi.filter(
  (i): i is Extract<(typeof vaultAbi)[number], { type: "event"; name: (typeof EVENT_NAMES)[number] }> =>
    i.type === "event" && (EVENT_NAMES as readonly string[]).includes(i.name),
);

/** The vault's error names by selector: PaymentSkipped carries the selector of why. */
const ERROR_NAMES = new Map(
  vaultAbi
    .filter((i) => i.type === "error")
    .map((e) => [toFunctionSelector(`${e.name}(${e.inputs.map((p) => p.type).join(",")})`), e.name as string]),
);

export const reasonName = (selector: Hex) => ERROR_NAMES.get(selector.toLowerCase() as Hex) ?? selector;

export interface Checkpoint {
  blockNumber: number;
  blockHash: Hex;
  blockTime: number;
}

export interface IndexStep {
  from: number;
  to: number;
  head: number;
  applied: number;
  caughtUp: boolean;
  rewoundTo?: number;
}

export const checkpointId = (c: ChainConfig) => `${c.chainId}:${c.vault}`;

export async function readCheckpoint(env: Env, c: ChainConfig): Promise<Checkpoint | null> {
  const r = await env.DB.prepare("SELECT block_number, block_hash, block_time FROM chain_checkpoints WHERE id = ?")
    .bind(checkpointId(c))
    .first<{ block_number: number; block_hash: Hex; block_time: number }>();
  return r ? { blockNumber: r.block_number, blockHash: r.block_hash, blockTime: r.block_time } : null;
}

async function writeCheckpoint(env: Env, c: ChainConfig, cp: Checkpoint | null): Promise<void> {
  if (!cp) {
    await env.DB.prepare("DELETE FROM chain_checkpoints WHERE id = ?").bind(checkpointId(c)).run();
    return;
  }
  await env.DB.prepare(
    `INSERT INTO chain_checkpoints (id, block_number, block_hash, block_time, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET block_number = excluded.block_number, block_hash = excluded.block_hash,
       block_time = excluded.block_time, updated_at = excluded.updated_at`,
  )
    .bind(checkpointId(c), cp.blockNumber, cp.blockHash, cp.blockTime, Date.now())
    .run();
}

/**
 * Advances the checkpoint from `from` (what this step read) to `to` only if
 * nobody moved it meanwhile: a `reindex` (rewindTo) during a step must win, or
 * the step's write would undo it and the re-read would never happen.
 */
async function advanceCheckpoint(env: Env, c: ChainConfig, from: Checkpoint | null, to: Checkpoint): Promise<boolean> {
  const r = from
    ? await env.DB.prepare(
        `UPDATE chain_checkpoints SET block_number = ?, block_hash = ?, block_time = ?, updated_at = ?
         WHERE id = ? AND block_number = ? AND block_hash = ?`,
      )
        .bind(to.blockNumber, to.blockHash, to.blockTime, Date.now(), checkpointId(c), from.blockNumber, from.blockHash)
        .run()
    : await env.DB.prepare(
        `INSERT INTO chain_checkpoints (id, block_number, block_hash, block_time, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO NOTHING`,
      )
        .bind(checkpointId(c), to.blockNumber, to.blockHash, to.blockTime, Date.now())
        .run();
  return r.meta.changes > 0;
}

/**
 * Ops (`npm run ops -- reindex --from-block N`, POST /v1/ops/reindex): the
 * indexer reads the vault's events again from block `fromBlock`. The checkpoint
 * becomes block fromBlock − 1 with its real hash and time (so the reorg check
 * accepts it), or is removed when fromBlock is at or before CHAIN_START_BLOCK
 * (the indexer then starts there). Replays are safe: each Account skips the
 * `txHash:logIndex` it applied and, for a wallet whose unclaimed funds it claimed,
 * the events that claim covers; unclaimed deposits skip the (block, logIndex) folded.
 */
export async function rewindTo(
  env: Env,
  c: ChainConfig,
  fromBlock: number,
  client: Client = chainClient(c),
): Promise<{ checkpoint: Checkpoint | null; head: number }> {
  const head = Number(await client.getBlockNumber());
  if (fromBlock > head) {
    throw new ApiError(400, "invalid_request", `Block ${fromBlock} is past the chain head (${head}).`);
  }
  const checkpoint = fromBlock <= Number(c.startBlock) ? null : await blockAt(client, fromBlock - 1);
  await writeCheckpoint(env, c, checkpoint);
  return { checkpoint, head };
}

export function chainClient(c: ChainConfig) {
  // cacheTime 0: the head is read fresh on every poll (viem caches it for 4 s by default).
  return createPublicClient({ cacheTime: 0, transport: http(c.rpcUrl, { retryCount: 1, timeout: 10_000 }) });
}

type Client = ReturnType<typeof chainClient>;

async function blockAt(client: Client, n: number): Promise<Checkpoint> {
  const b = await client.getBlock({ blockNumber: BigInt(n) });
  return { blockNumber: n, blockHash: b.hash as Hex, blockTime: Number(b.timestamp) };
}

/** One bounded step: check the checkpoint's hash, read one range of logs, apply, advance. */
export async function indexOnce(env: Env, c: ChainConfig, client: Client = chainClient(c)): Promise<IndexStep> {
  const cp = await readCheckpoint(env, c);
  const head = Number(await client.getBlockNumber());
  const safe = head - c.confirmations;
  const start = Number(c.startBlock);
  if (cp) {
    const now = await client.getBlock({ blockNumber: BigInt(cp.blockNumber) }).catch(() => null);
    if (!now || now.hash !== cp.blockHash) {
      // The block we stopped at is gone (a reorg deeper than CONFIRMATIONS): read a stretch again.
      const back = cp.blockNumber - (2 * c.confirmations + 16);
      const rewound = back < start ? null : await blockAt(client, back);
      console.warn(`chain reorg at block ${cp.blockNumber}: rewinding to ${rewound?.blockNumber ?? start - 1}`);
      await writeCheckpoint(env, c, rewound);
      return { from: cp.blockNumber, to: cp.blockNumber, head, applied: 0, caughtUp: false, rewoundTo: back };
    }
  }
  const from = cp ? cp.blockNumber + 1 : start;
  await claimUnclaimed(env);
  if (from > safe) return { from, to: from - 1, head, applied: 0, caughtUp: true };
  const to = Math.min(safe, from + Number(c.maxRange) - 1);
  const logs = await client.getLogs({
    address: c.vault,
    events: EVENTS,
    fromBlock: BigInt(from),
    toBlock: BigInt(to),
    strict: true,
  });
  logs.sort((a, b) => Number(a.blockNumber - b.blockNumber) || a.logIndex - b.logIndex);
  const toBlock = await blockAt(client, to);
  await applyLogs(env, logs as unknown as VaultLog[]);
  if (!(await advanceCheckpoint(env, c, cp, toBlock))) {
    // Moved by a reindex while this step ran: the next step starts where it now says.
    return { from, to, head, applied: logs.length, caughtUp: false };
  }
  await claimUnclaimed(env);
  return { from, to, head, applied: logs.length, caughtUp: to >= safe };
}

interface VaultLog {
  eventName: (typeof EVENT_NAMES)[number];
  args: Record<string, unknown>;
  transactionHash: Hex;
  logIndex: number;
  blockNumber: bigint;
}

/** Applies logs in chain order; each Account skips what it has applied before. */
export async function applyLogs(env: Env, logs: VaultLog[]): Promise<void> {
  const addresses: Address[] = [];
  for (const l of logs) {
    for (const k of ["user", "payer", "recipient"]) if (l.args[k]) addresses.push(l.args[k] as Address);
  }
  const users = await usersByWallet(env, addresses);
  const userOf = (a: unknown) => users.get(getAddress(a as Address)) ?? null;
  const account = (id: string) => env.ACCOUNT.getByName(id);
  for (const l of logs) {
    const ref = `${l.transactionHash}:${l.logIndex}`;
    const at = { block: Number(l.blockNumber), logIndex: l.logIndex };
    const a = l.args;
    switch (l.eventName) {
      case "Deposited":
      case "Withdrawn": {
        const amount = a.amount as bigint;
        const id = userOf(a.user);
        const t = l.eventName === "Deposited" ? "deposit" : "withdraw";
        if (id) await account(id).chainApply({ t, ref, ...at, wallet: a.user as Address, amount: `${amount}` });
        else await foldUnclaimed(env, a.user as Address, t === "deposit" ? amount : -amount, at);
        break;
      }
      case "MessagePaid": {
        const payerId = userOf(a.payer);
        const recipientId = userOf(a.recipient);
        const amount = a.amount as bigint;
        const fee = a.fee as bigint;
        const base = { ref, ...at, messageId: a.messageId as Hex, txHash: l.transactionHash };
        if (payerId) {
          await account(payerId).chainApply({
            t: "paid_out",
            ...base,
            wallet: a.payer as Address,
            amount: `${amount}`,
            fee: `${fee}`,
            nonce: `${a.nonce as bigint}`,
            recipientKnown: recipientId !== null,
          });
        } else await foldUnclaimed(env, a.payer as Address, -(amount + fee), at);
        if (recipientId) {
          await account(recipientId).chainApply({
            t: "paid_in",
            ...base,
            wallet: a.recipient as Address,
            amount: `${amount}`,
            fee: `${fee}`,
            payerKnown: payerId !== null,
          });
        } else await foldUnclaimed(env, a.recipient as Address, amount, at);
        break;
      }
      case "PaymentSkipped": {
        const payerId = userOf(a.payer);
        if (!payerId) break;
        const ev: ChainEvent = {
          t: "skipped",
          ref,
          ...at,
          messageId: a.messageId as Hex,
          nonce: `${a.nonce as bigint}`,
          reason: reasonName(a.reason as Hex),
        };
        // The payer's Account releases the hold and tells the recipient (with retries).
        await account(payerId).chainApply(ev);
        break;
      }
    }
  }
}

/**
 * The cron's indexer: steps until caught up, then keeps polling every
 * INDEXER_POLL_MS until INDEXER_RUN_MS has passed, so a receipt shows within
 * seconds rather than at the next minute. An RPC or D1 failure ends the step
 * with the checkpoint where it was; the next poll resumes from there.
 * Only the run holding the vault's lease steps (worker/chain/indexer-lease.ts):
 * a run that finds it held returns at once, and a run that lost it stops
 * before its next step.
 */
const MAX_CATCH_UP_STEPS = 50;

export async function runIndexer(env: Env, opts: { runMs?: number } = {}): Promise<IndexStep[]> {
  const c = chainConfig(env);
  if (!c) return [];
  const lease = await takeLease(env, checkpointId(c)).catch((err) => {
    console.warn(`indexer: cannot take the lease, next run retries: ${errorSummary(err)}`);
    return undefined;
  });
  if (lease === undefined) return [];
  if (!lease) {
    console.debug("indexer: another run holds the lease");
    return [];
  }
  try {
    return await stepWhileLeased(env, c, lease, Date.now() + (opts.runMs ?? c.runMs));
  } finally {
    await releaseLease(env, lease).catch(() => {}); // else it lapses by itself
  }
}

async function stepWhileLeased(env: Env, c: ChainConfig, lease: IndexerLease, until: number): Promise<IndexStep[]> {
  const client = chainClient(c);
  const steps: IndexStep[] = [];
  for (;;) {
    // A renewal D1 could not confirm counts as lost: stepping without the lease is the one unsafe thing.
    if (!(await renewLease(env, lease).catch(() => false))) {
      console.warn("indexer: lease lost, stopping before the next step");
      break;
    }
    let step: IndexStep | null = null;
    try {
      step = await indexOnce(env, c, client);
      steps.push(step);
    } catch (err) {
      console.warn(`indexer step failed, will retry: ${errorSummary(err)}`);
    }
    // A failed step counts as caught up: wait for the next poll rather than hammer a failing RPC.
    const caughtUp = step?.caughtUp ?? true;
    // Past the run time, stop once caught up (or after a bounded number of catch-up steps).
    if (Date.now() >= until && (caughtUp || steps.length >= MAX_CATCH_UP_STEPS)) break;
    if (caughtUp) await new Promise((r) => setTimeout(r, Math.min(c.pollMs, Math.max(0, until - Date.now()))));
  }
  return steps;
}
