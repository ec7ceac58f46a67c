// The recipient's allowlist (with discounts) and blocklist: the settings screen reads
// both, and the allowlist is edited here (blocking is moderation, moderation.ts).
export interface SenderLists {
  allowlist: { userId: string; discountBps: number }[];
  blocklist: { userId: string }[];
}

const MAX = 500;

export function readSenderLists(sql: SqlStorage): SenderLists {
  const allowlist = sql
    .exec<{ user_id: string; discount_bps: number }>(
      "SELECT user_id, discount_bps FROM allowlist ORDER BY created_at DESC LIMIT ?",
      MAX,
    )
    .toArray()
    .map((r) => ({ userId: r.user_id, discountBps: r.discount_bps }));
  const blocklist = sql
    .exec<{ user_id: string }>("SELECT user_id FROM blocklist ORDER BY created_at DESC LIMIT ?", MAX)
    .toArray()
    .map((r) => ({ userId: r.user_id }));
  return { allowlist, blocklist };
}

export function setAllowlist(sql: SqlStorage, userId: string, discountBps: number): void {
  sql.exec(
    "INSERT INTO allowlist (user_id, discount_bps, created_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET discount_bps = excluded.discount_bps",
    userId,
    discountBps,
    Date.now(),
  );
}

export function removeAllowlist(sql: SqlStorage, userId: string): void {
  sql.exec("DELETE FROM allowlist WHERE user_id = ?", userId);
}
