// The price this user would pay another, worked out on the SENDER's side, so a
// profile page view asks the viewer's own Account and never the (possibly
// viral) recipient's. The facts the recipient uses are mirrored here:
//   recipient "has received from me"  = my contacts.sent      (set by debit)
//   recipient "has sent to me"         = my contacts.received (set by receive)
//   recipient's allowlist entry for me = my allowed_by row    (set with the allowlist)
// The send itself is still priced by the recipient's Account; this is the
// quote shown before it (maxPrice protects against a difference).
import type { SenderRelation } from "../../worker/domain/pricing";

export function relationAsSender(sql: SqlStorage, recipientId: string): SenderRelation {
  const r = sql
    .exec<{ sent: number | null; received: number | null; allow: number | null }>(
      `SELECT (SELECT sent FROM contacts WHERE user_id = ?1) AS sent,
              (SELECT received FROM contacts WHERE user_id = ?1) AS received,
              (SELECT discount_bps FROM allowed_by WHERE user_id = ?1) AS allow`,
      recipientId,
    )
    .one();
  return { allowlistBps: r.allow, hasSentBefore: r.sent === 1, recipientHasSent: r.received === 1 };
}

/** `recipientId` put this user on their allowlist with this discount (null: took them off). */
export function setAllowedBy(sql: SqlStorage, recipientId: string, discountBps: number | null): void {
  if (discountBps === null) sql.exec("DELETE FROM allowed_by WHERE user_id = ?", recipientId);
  else {
    sql.exec(
      "INSERT INTO allowed_by (user_id, discount_bps) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET discount_bps = excluded.discount_bps",
      recipientId,
      discountBps,
    );
  }
}
