// The Account's side of the audit chain (rules in worker/domain/audit-chain.ts):
// reading chained ledger rows and checking the whole chain. Hashes are computed
// in Account.commit() as entries are made (see tx.entry), so the chain follows
// the order commits were serialised in — no fork is possible within an Account.
import { type ChainedEntry, type ChainVerdict, genesis, verifyChain } from "../../worker/domain/audit-chain";
import { archivedLedger, ledgerTail } from "./history-archive";
import { type LedgerRecord, ledgerRecord } from "./ledger-row";

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
 * archive (account/history-archive.ts), and only the chunks this page needs
 * are read: the ones holding its entries, the entry before it (`prev`) and the
 * anchor, plus — once — any archived chunk not yet verified. Archived chunks
 * are immutable, so the Account remembers how far the archived chain verified
 * from genesis (`ledger_verified_id`/`_hash`) and checks on from there; the
 * export (`npm run ops -- export`) still checks every archived entry
 * independently.
 */
export async function auditPage(
  sql: SqlStorage,
  bucket: R2Bucket,
  accountId: string,
  cursor: number,
  limit: number,
  anchorSeq: number | null,
): Promise<AuditPage> {
  let tail = 0;
  let mark = verifiedMark(sql, accountId);
  let archived: LedgerRecord[] = [];
  let live: LedgerRecord[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    tail = ledgerTail(sql)?.id ?? 0;
    mark = verifiedMark(sql, accountId);
    archived = tail
      ? (await archivedLedger(sql, bucket, mark.id, [cursor, cursor + limit], anchorSeq)).map(ledgerRecord)
      : [];
    // Other requests ran during the await: read the live rows only now, and
    // start over if a retention sweep moved entries meanwhile.
    live = sql.exec("SELECT * FROM ledger ORDER BY id").toArray().map(ledgerRecord);
    if ((ledgerTail(sql)?.id ?? 0) === tail) break;
  }
  // The chain from where the archive last verified: the rest of the archive, then the live entries.
  const unverified = [...archived.filter((e) => e.id > mark.id), ...live];
  const checked = verifyChain(unverified, mark.hash, mark.id);
  const chain = { ...checked, count: mark.id + checked.count };
  const archivedOk = checked.verified || (checked.brokenAt?.id ?? 0) > tail;
  if (archivedOk && tail > mark.id) saveVerifiedMark(sql, tail, ledgerTail(sql)?.hash ?? null);
  const known = new Map<number, LedgerRecord>();
  for (const e of [...archived, ...live]) if (!known.has(e.id)) known.set(e.id, e);
  const after = [...known.values()].filter((e) => e.id > cursor).sort((a, b) => a.id - b.id);
  const entries = after.slice(0, limit);
  const lastId = Math.max(tail, live.at(-1)?.id ?? 0);
  const more = entries.length > 0 && entries[entries.length - 1].id < lastId;
  const hashOf = (id: number) => known.get(id)?.hash ?? null;
  const last = live.at(-1) ?? (tail ? { id: tail, hash: ledgerTail(sql)?.hash ?? null } : undefined);
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

/** How far the archived chain verified from genesis (entry id and its hash). */
function verifiedMark(sql: SqlStorage, accountId: string): { id: number; hash: string } {
  const r = sql
    .exec<{ id: number; hash: string | null }>(
      "SELECT ledger_verified_id AS id, ledger_verified_hash AS hash FROM account WHERE id = 1",
    )
    .one();
  return r.id > 0 && r.hash ? { id: r.id, hash: r.hash } : { id: 0, hash: genesis(accountId) };
}

function saveVerifiedMark(sql: SqlStorage, id: number, hash: string | null): void {
  if (hash) sql.exec("UPDATE account SET ledger_verified_id = ?, ledger_verified_hash = ? WHERE id = 1", id, hash);
}
