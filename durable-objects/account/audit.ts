// The Account's side of the audit chain (rules in worker/domain/audit-chain.ts):
// reading chained ledger rows and checking the whole chain. Hashes are computed
// in Account.commit() as entries are made (see tx.entry), so the chain follows
// the order commits were serialised in — no fork is possible within an Account.
import { type ChainedEntry, type ChainVerdict, genesis, verifyChain } from "../../worker/domain/audit-chain";

/** Zero-amount ledger entries that record moderation and admin events in the chain. */
export const MODERATION_KINDS = ["block", "unblock", "report", "freeze", "unfreeze", "admin", "key_rotation"] as const;
export type ModerationKind = (typeof MODERATION_KINDS)[number];

const toEntry = (r: Record<string, SqlStorageValue>): ChainedEntry => ({
  id: r.id as number,
  kind: r.kind as string,
  amount: r.amount as string,
  dBalance: r.d_balance as string,
  dHeld: r.d_held as string,
  dFees: r.d_fees as string,
  balanceAfter: r.balance_after as string,
  ref: r.ref as string | null,
  createdAt: r.created_at as number,
  hash: r.hash as string | null,
});

/** The hash the next entry chains to: the last entry's, or the Account's genesis. */
export function loadHead(sql: SqlStorage, accountId: string): string {
  const r = sql.exec<{ hash: string | null }>("SELECT hash FROM ledger ORDER BY id DESC LIMIT 1").toArray()[0];
  return r?.hash ?? genesis(accountId);
}

export interface AuditPage {
  accountId: string;
  head: string;
  headSeq: number;
  /** The whole chain, checked from genesis just now. */
  chain: ChainVerdict;
  /** Hash of the entry before the first one in `entries` (genesis for the first page). */
  prev: string;
  entries: ChainedEntry[];
  nextCursor: string | null;
  /** The stored hash of entry `anchorSeq` (to compare with a checkpoint's leaf), if asked. */
  anchorHash: string | null;
}

/** One page of chained entries (oldest first, after `cursor`) and the verdict over the whole chain. */
export function auditPage(
  sql: SqlStorage,
  accountId: string,
  cursor: number,
  limit: number,
  anchorSeq: number | null,
): AuditPage {
  const rows = sql.exec("SELECT * FROM ledger WHERE id > ? ORDER BY id LIMIT ?", cursor, limit + 1).toArray();
  const more = rows.length > limit;
  const entries = (more ? rows.slice(0, limit) : rows).map(toEntry);
  const prevRow = cursor > 0 ? sql.exec("SELECT hash FROM ledger WHERE id = ?", cursor).toArray()[0] : undefined;
  const chain = verifyChain(sql.exec("SELECT * FROM ledger ORDER BY id").toArray().map(toEntry), genesis(accountId));
  const last = sql
    .exec<{ id: number; hash: string | null }>("SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1")
    .toArray()[0];
  return {
    accountId,
    head: last?.hash ?? genesis(accountId),
    headSeq: last?.id ?? 0,
    chain,
    prev: cursor > 0 ? ((prevRow?.hash as string | null) ?? "") : genesis(accountId),
    entries,
    nextCursor: more ? String(entries[entries.length - 1].id) : null,
    anchorHash:
      anchorSeq === null
        ? null
        : ((sql.exec("SELECT hash FROM ledger WHERE id = ?", anchorSeq).toArray()[0]?.hash as string | null) ?? null),
  };
}
