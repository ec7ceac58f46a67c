// SQLite schema of an Account, migrated in the constructor under
// blockConcurrencyWhile. Versions are tracked in a table (PRAGMA user_version is
// not available to Durable Objects). Append migrations; never edit old ones.
// Amounts are TEXT decimal strings, read into bigint.
import { CHAIN_MIGRATION } from "./account/chain";
import { CHAIN_CLAIMS_MIGRATION } from "./account/chain-claims";
import { STORAGE_BOUNDS_MIGRATION } from "./account/storage-bounds";
import { UNREAD_MIGRATION } from "./account/unread";

export const MIGRATIONS: string[] = [
  `
  CREATE TABLE account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    user_id TEXT,
    handle TEXT,
    balance TEXT NOT NULL DEFAULT '0',
    held TEXT NOT NULL DEFAULT '0',
    fees TEXT NOT NULL DEFAULT '0',
    topups TEXT NOT NULL DEFAULT '0',
    deposits TEXT NOT NULL DEFAULT '0',
    withdrawals TEXT NOT NULL DEFAULT '0',
    default_price TEXT NOT NULL DEFAULT '1000000',
    first_contact_price TEXT NOT NULL DEFAULT '1000000',
    return_discount_bps INTEGER NOT NULL DEFAULT 0,
    settlement TEXT NOT NULL DEFAULT 'instant',
    reply_window_hours INTEGER NOT NULL DEFAULT 72,
    send_bucket TEXT,
    receive_bucket TEXT
  );
  INSERT INTO account (id) VALUES (1);

  -- Append-only: every change of balance, held or fees, with the deltas it made.
  CREATE TABLE ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    d_balance TEXT NOT NULL,
    d_held TEXT NOT NULL,
    d_fees TEXT NOT NULL,
    balance_after TEXT NOT NULL,
    ref TEXT,
    created_at INTEGER NOT NULL
  );

  -- Messages received. escrow_* only for on_reply settlement.
  CREATE TABLE inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    sender_id TEXT NOT NULL,
    sender_handle TEXT,
    body TEXT NOT NULL,
    price TEXT NOT NULL,
    fee TEXT NOT NULL,
    status TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER,
    tx_hash TEXT,
    in_reply_to TEXT,
    escrow_until INTEGER,
    escrow_state TEXT
  );
  CREATE INDEX inbox_escrow_open ON inbox (escrow_until) WHERE escrow_state IN ('held', 'releasing', 'refunding');

  -- Messages sent; each row is also the hold on the sender's money until settled.
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    recipient_id TEXT NOT NULL,
    recipient_handle TEXT,
    body TEXT NOT NULL,
    price TEXT NOT NULL,
    fee TEXT NOT NULL,
    status TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    in_reply_to TEXT,
    hold_state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX outbox_open_holds ON outbox (created_at) WHERE hold_state = 'held';
  CREATE INDEX outbox_reply ON outbox (in_reply_to) WHERE in_reply_to IS NOT NULL;

  -- Who this user has exchanged paid messages with (drives the price rule).
  CREATE TABLE contacts (
    user_id TEXT PRIMARY KEY,
    received INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE allowlist (user_id TEXT PRIMARY KEY, discount_bps INTEGER NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE blocklist (user_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL);

  -- Messages this recipient declared aborted to a sender's resolve(): never delivered later.
  CREATE TABLE tombstones (message_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL);

  -- Idempotency-Key records for top-up and withdraw (sends are keyed by messageId).
  CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );

  -- Transactional outbox of events for the index queue (flushed in batches).
  CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
  `,
  // v2: ledger entries reach the index queue straight from the ledger table.
  `ALTER TABLE account ADD COLUMN flushed_ledger_id INTEGER NOT NULL DEFAULT 0;`,
  // v3: new messages reach the index queue straight from the inbox table.
  `ALTER TABLE account ADD COLUMN flushed_inbox_seq INTEGER NOT NULL DEFAULT 0;`,
  // v4: batches are frozen (numbered, stored) before they are sent, so a resend
  // is the same batch and the R2 archive holds each exactly once.
  `
  ALTER TABLE account ADD COLUMN flush_seq INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE flush_batches (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
  `,
  // v5: chain mode (pending payments, vault nonce, applied vault events); see account/chain.ts.
  CHAIN_MIGRATION,
  // v6: the audit hash chain (durable-objects/account/audit.ts). Entries written
  // before it have no hash; verification reports them as "unhashed".
  `ALTER TABLE ledger ADD COLUMN hash TEXT;`,
  // v7: abuse controls — sender reputation (JSON, worker/domain/reputation.ts),
  // admin freeze (the reason, or NULL), and who complained (one row per recipient
  // who blocked or reported this sender, so a complaint counts once).
  `ALTER TABLE account ADD COLUMN reputation TEXT;
   ALTER TABLE account ADD COLUMN frozen TEXT;
   CREATE TABLE complainants (user_id TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at INTEGER NOT NULL);`,
  // v8: recipients whose allowlist has this user (quotes are worked out on the sender's side).
  `CREATE TABLE allowed_by (user_id TEXT PRIMARY KEY, discount_bps INTEGER NOT NULL);`,
  // v9: inbox retention — chunks of old messages in R2, and which chunk holds each archived message.
  `
  CREATE TABLE inbox_archive (
    id INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    key TEXT NOT NULL,
    count INTEGER NOT NULL
  );
  CREATE INDEX inbox_archive_range ON inbox_archive (last_seq, first_seq);
  CREATE TABLE archived_ids (message_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, chunk INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX archived_ids_seq ON archived_ids (seq);
  `,
  // v10: notices wait out their coalescing window behind the index cursor
  // (account/outbox-flush.ts); everything flushed before this was notified already.
  `ALTER TABLE account ADD COLUMN notified_inbox_seq INTEGER NOT NULL DEFAULT 0;
   UPDATE account SET notified_inbox_seq = flushed_inbox_seq;`,
  // v11: the unread count (account/unread.ts).
  UNREAD_MIGRATION,
  // v12: outbox and ledger retention (account/history-archive.ts): their chunk
  // indexes, the last archived ledger entry (ids and the audit chain go on from
  // it), and when each archived message was sent (archived_ids is pruned past
  // the idempotency horizon; ids archived before v12 count from now).
  `
  CREATE TABLE outbox_archive (
    id INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    key TEXT NOT NULL,
    count INTEGER NOT NULL
  );
  CREATE INDEX outbox_archive_range ON outbox_archive (last_seq, first_seq);
  CREATE TABLE ledger_archive (
    id INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    key TEXT NOT NULL,
    count INTEGER NOT NULL
  );
  CREATE INDEX ledger_archive_range ON ledger_archive (last_seq, first_seq);
  ALTER TABLE account ADD COLUMN ledger_archived_id INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE account ADD COLUMN ledger_archived_hash TEXT;
  ALTER TABLE archived_ids ADD COLUMN created_at INTEGER;
  UPDATE archived_ids SET created_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
  CREATE INDEX archived_ids_created ON archived_ids (created_at);
  `,
  // v13: the retry guards (idempotency keys, tombstones, applied vault events)
  // are pruned past their horizons (account/storage-bounds.ts), and the audit
  // page remembers how far the archived ledger verified (account/audit.ts).
  `${STORAGE_BOUNDS_MIGRATION}
  ALTER TABLE account ADD COLUMN ledger_verified_id INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE account ADD COLUMN ledger_verified_hash TEXT;
  `,
  // v14: how far each claimed wallet's unclaimed funds went into its claim, so a
  // reindex credits those events nothing twice (account/chain-claims.ts).
  CHAIN_CLAIMS_MIGRATION,
];

export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const row = sql.exec<{ v: number | null }>("SELECT MAX(version) AS v FROM _migrations").one();
  for (let v = (row.v ?? 0) + 1; v <= MIGRATIONS.length; v++) {
    sql.exec(MIGRATIONS[v - 1]);
    sql.exec("INSERT INTO _migrations (version, applied_at) VALUES (?, ?)", v, Date.now());
  }
}
