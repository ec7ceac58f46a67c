// The inbox's unread count, answered from a partial index of the unread rows:
// the count costs one index entry per unread message, never a scan of the inbox,
// and there is no counter to keep in step with every insert, read and archive.
// Archived messages (past retention) are not counted: they can no longer be
// marked read, so counting them would leave a number the user cannot clear.

export const UNREAD_MIGRATION = "CREATE INDEX inbox_unread ON inbox (seq) WHERE read_at IS NULL;";

export function unreadCount(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM inbox WHERE read_at IS NULL").one().n;
}
