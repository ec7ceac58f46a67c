// The Account's state as one row of the `account` table: read once when the
// object starts, written by every commit (Account.commit) with the draft it made.
// Ledger rows are not part of it: only the last id and hash, to go on from.
import type { PricingPolicy } from "../../worker/domain/pricing";
import { loadHead } from "./audit";
import { ledgerTail } from "./history-archive";
import { big, type State } from "./types";

export function loadState(sql: SqlStorage, name: string | undefined): State {
  const r = sql.exec("SELECT * FROM account WHERE id = 1").one();
  return {
    userId: (r.user_id as string | null) ?? name ?? "",
    handle: r.handle as string | null,
    balance: big(r.balance),
    held: big(r.held),
    fees: big(r.fees),
    topups: big(r.topups),
    deposits: big(r.deposits),
    withdrawals: big(r.withdrawals),
    policy: {
      defaultPrice: big(r.default_price),
      firstContactPrice: big(r.first_contact_price),
      returnDiscountBps: r.return_discount_bps as number,
      settlement: r.settlement as PricingPolicy["settlement"],
      replyWindowHours: r.reply_window_hours as number,
    },
    sendBucket: r.send_bucket ? JSON.parse(r.send_bucket as string) : null,
    receiveBucket: r.receive_bucket ? JSON.parse(r.receive_bucket as string) : null,
    // Archived entries keep their ids: new ones go on after the last, live or archived.
    lastLedgerId: Math.max(
      sql.exec<{ id: number }>("SELECT COALESCE(MAX(id), 0) AS id FROM ledger").one().id,
      ledgerTail(sql)?.id ?? 0,
    ),
    auditHead: loadHead(sql, (r.user_id as string | null) ?? name ?? ""),
    reputation: r.reputation ? JSON.parse(r.reputation as string) : null,
    frozen: r.frozen as string | null,
  };
}

export function saveState(sql: SqlStorage, s: State, name: string | undefined): void {
  sql.exec(
    `UPDATE account SET user_id = ?, handle = ?, balance = ?, held = ?, fees = ?, topups = ?, deposits = ?,
       withdrawals = ?, default_price = ?, first_contact_price = ?, return_discount_bps = ?, settlement = ?,
       reply_window_hours = ?, send_bucket = ?, receive_bucket = ?, reputation = ?, frozen = ? WHERE id = 1`,
    s.userId || name || null,
    s.handle,
    `${s.balance}`,
    `${s.held}`,
    `${s.fees}`,
    `${s.topups}`,
    `${s.deposits}`,
    `${s.withdrawals}`,
    `${s.policy.defaultPrice}`,
    `${s.policy.firstContactPrice}`,
    s.policy.returnDiscountBps,
    s.policy.settlement,
    s.policy.replyWindowHours,
    s.sendBucket ? JSON.stringify(s.sendBucket) : null,
    s.receiveBucket ? JSON.stringify(s.receiveBucket) : null,
    s.reputation ? JSON.stringify(s.reputation) : null,
    s.frozen,
  );
}
