// One ledger row as the rest of the system sees it: the flush batch (and so the
// R2 archive and the export), the audit chain and its verifier all read this
// shape, mapped here once from the Account's `ledger` table.
import type { LedgerKind } from "./types";

/** One entry of the Account's append-only ledger, with the deltas it made. */
export interface LedgerRecord {
  id: number;
  kind: LedgerKind;
  amount: string;
  dBalance: string;
  dHeld: string;
  dFees: string;
  balanceAfter: string;
  ref: string | null;
  createdAt: number;
  /** The audit chain hash of this entry (worker/domain/audit-chain.ts); null before the chain or with AUDIT_CHAIN=off. */
  hash: string | null;
}

export function ledgerRecord(r: Record<string, SqlStorageValue>): LedgerRecord {
  return {
    id: r.id as number,
    kind: r.kind as LedgerKind,
    amount: r.amount as string,
    dBalance: r.d_balance as string,
    dHeld: r.d_held as string,
    dFees: r.d_fees as string,
    balanceAfter: r.balance_after as string,
    ref: r.ref as string | null,
    createdAt: r.created_at as number,
    hash: (r.hash as string | null) ?? null,
  };
}
