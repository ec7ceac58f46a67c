// The Account's side of the audit chain (rules in worker/domain/audit-chain.ts):
// reading chained ledger rows and checking the whole chain. Hashes are computed
// in Account.commit() as entries are made (see tx.entry), so the chain follows
// the order commits were serialised in — no fork is possible within an Account.
import { type ChainedEntry, type ChainVerdict, genesis, verifyChain } from "../../worker/domain/audit-chain";
import { archivedLedger, ledgerTail } from "./history-archive";
import { ledgerRecord } from "./ledger-row";

/** Zero-amount ledger entries that record moderation and admin events in the chain. */
export const MODERATION_KINDS = ["block", "unblock", "report", "freeze", "unfreeze", "admin", "key_rotation"] as const;
export type ModerationKind = (typeof MODERATION_KINDS)[number];

/** The hash the next entry chains to: the last entry's (live, else the last archived one), or the Account's genesis. */
export function loadHead(sql: SqlStorage, accountId: string): string {
  const r = sql.exec<{ hash: string | null }>("SELECT hash FROM ledger ORDER BY id DESC LIMIT 1").toArray()[0];
  if (r) return r.hash ?? genesis(accountId);
  return ledgerTail(sql)?.hash ?? genesis(accountId);
}

export interface AuditPage {
  accountId: string;
  head: string;
  headSeq: number;
  /** The whole chain, checked from genesis just now (archived entries read back from R2). */
  chain: ChainVerdict;
  /** Hash of the entry before the first one in `entries` (genesis for the first page). */
  prev: string;
  entries: ChainedEntry[];
  nextCursor: string | null;
  /** The stored hash of entry `anchorSeq` (to compare with a checkpoint's leaf), if asked. */
  anchorHash: string | null;
}

/**
 * One page of chained entries (oldest first, after `cursor`) and the verdict
 * over the whole chain. Entries past the retention window come from the R2
 * archive (account/history-archive.ts): this admin read walks all of them.
 */
export async function auditPage(
  sql: SqlStorage,
  bucket: R2Bucket,
  accountId: string,
  cursor: number,
  limit: number,
  anchorSeq: number | null,
): Promise<AuditPage> {
  let all: ChainedEntry[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const tail = ledgerTail(sql)?.id ?? 0;
    const archived = tail ? await archivedLedger(sql, bucket) : [];
    // Other requests ran during the await: read the live rows only now, and
    // start over if a retention sweep moved entries meanwhile.
    all = [...archived, ...sql.exec("SELECT * FROM ledger ORDER BY id").toArray()].map(ledgerRecord);
    if ((ledgerTail(sql)?.id ?? 0) === tail) break;
  }
  const chain = verifyChain(all, genesis(accountId));
  const after = all.filter((e) => e.id > cursor);
  const more = after.length > limit;
  const entries = after.slice(0, limit);
  const hashOf = (id: number) => all.find((e) => e.id === id)?.hash ?? null;
  const last = all.at(-1);
  return {
    accountId,
    head: last?.hash ?? genesis(accountId),
    headSeq: last?.id ?? 0,
    chain,
    prev: cursor > 0 ? (hashOf(cursor) ?? "") : genesis(accountId),
    entries,
    nextCursor: more ? String(entries[entries.length - 1].id) : null,
    anchorHash: anchorSeq === null ? null : hashOf(anchorSeq),
  };
}
