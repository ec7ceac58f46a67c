// The recipient's allowlist (with discounts) and blocklist, for the settings screen.
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
