// D1 schema (drizzle). Migrations are generated from this file by drizzle-kit
// (`npm run db:generate`) into migrations/ and applied by wrangler.
// Money and inboxes do not live here: they live in each user's Account Durable
// Object. D1 holds only what grows with users (identity, sessions, one totals
// row per Account) — nothing per message or per ledger entry.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const now = sql`(unixepoch() * 1000)`;

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** Lowercased; uniqueness is enforced by the index, not by a lookup. */
    handle: text("handle"),
    /** Checksummed 0x address of the wallet that signed in with SIWE. */
    walletAddress: text("wallet_address"),
    displayName: text("display_name"),
    bio: text("bio"),
    discoverableByPhone: integer("discoverable_by_phone", { mode: "boolean" }).notNull().default(false),
    discoverableInSearch: integer("discoverable_in_search", { mode: "boolean" }).notNull().default(true),
    emailVerified: integer("email_verified", { mode: "boolean" }).notNull().default(false),
    phoneVerified: integer("phone_verified", { mode: "boolean" }).notNull().default(false),
    /**
     * The public copy of the pricing the Account holds (PricingJson), so profile
     * page views never reach a hot recipient's Account. Null until first read or
     * set. `pricing_version` orders concurrent updates (the Account's stamp).
     */
    pricing: text("pricing"),
    pricingVersion: integer("pricing_version"),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [uniqueIndex("users_handle_unique").on(t.handle), uniqueIndex("users_wallet_unique").on(t.walletAddress)],
);

/** Single-use, expiring sign-in challenges (SIWE nonces, passkey challenges). */
export const authChallenges = sqliteTable(
  "auth_challenges",
  {
    id: text("id").primaryKey(),
    kind: text("kind", {
      enum: ["siwe", "passkey_register", "passkey_login", "oauth", "oauth_exchange", "otp_login", "x_link"],
    }).notNull(),
    /** What the challenge is bound to: the address for SIWE, the user for passkey registration. */
    subject: text("subject"),
    /** SHA-256 of the exact message issued, so an altered message is refused. */
    payloadHash: text("payload_hash"),
    /** Server-side JSON the challenge carries (passkey user id, OAuth provider + PKCE verifier); never sent out. */
    payload: text("payload"),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [index("auth_challenges_expires").on(t.expiresAt)],
);

/**
 * Refresh tokens, stored as SHA-256 hashes. A token is rotated on use; a rotated
 * token presented again revokes its whole family (RFC 6819 §5.2.2.3).
 */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    familyId: text("family_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    expiresAt: integer("expires_at").notNull(),
    rotatedAt: integer("rotated_at"),
    revokedAt: integer("revoked_at"),
    createdAt: integer("created_at").notNull().default(now),
    /** The session (family) this token belongs to: its device summary and sign-in time, copied on rotation. */
    device: text("device"),
    sessionStartedAt: integer("session_started_at"),
  },
  (t) => [index("refresh_tokens_family").on(t.familyId), index("refresh_tokens_user").on(t.userId)],
);

/** WebAuthn credentials; several per user. */
export const passkeyCredentials = sqliteTable(
  "passkey_credentials",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    publicKey: text("public_key").notNull(),
    counter: integer("counter").notNull().default(0),
    transports: text("transports"),
    deviceType: text("device_type"),
    backedUp: integer("backed_up", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull().default(now),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [index("passkey_credentials_user").on(t.userId)],
);

// ── Per-Account totals, written by the `index` queue consumer (one row per
// Account, never one per message: history is archived in R2, see
// worker/queues/index-consumer.ts). Amounts are base-unit decimal strings (D1
// numbers are float64 in JS) and are summed as bigint.

/**
 * Each Account's running totals as of its latest flushed ledger entry. Upserts keep the
 * row with the highest `seq`, so batches may arrive late, twice or out of order.
 */
export const accountTotals = sqliteTable("account_totals", {
  accountId: text("account_id").primaryKey(),
  seq: integer("seq").notNull(),
  balance: text("balance").notNull(),
  held: text("held").notNull(),
  fees: text("fees").notNull(),
  topups: text("topups").notNull(),
  deposits: text("deposits").notNull(),
  withdrawals: text("withdrawals").notNull(),
  /** The Account's audit chain head as of `seq` (hash of ledger entry `seq`); null before the chain existed. */
  auditHead: text("audit_head"),
  updatedAt: integer("updated_at").notNull(),
});

// ── Operations: audit checkpoints, hourly counters ──────────────────────────

/**
 * Signed audit checkpoints, one per interval (the Cron): the Merkle root over
 * every Account's audit head, signed with Ed25519 (AUDIT_SIGNING_KEY).
 */
export const auditCheckpoints = sqliteTable("audit_checkpoints", {
  id: integer("id").primaryKey(),
  createdAt: integer("created_at").notNull(),
  accounts: integer("accounts").notNull(),
  root: text("root").notNull(),
  signature: text("signature").notNull(),
  publicKey: text("public_key").notNull(),
});

/**
 * The leaves of the newest checkpoints (one per Account), for inclusion proofs.
 * Bounded: the Cron keeps only the last AUDIT_LEAF_CHECKPOINTS checkpoints' leaves.
 */
export const auditLeaves = sqliteTable(
  "audit_leaves",
  {
    checkpointId: integer("checkpoint_id").notNull(),
    accountId: text("account_id").notNull(),
    seq: integer("seq").notNull(),
    head: text("head").notNull(),
  },
  (t) => [primaryKey({ columns: [t.checkpointId, t.accountId] })],
);

/**
 * Five-minute rollups for GET /v1/ops/status that work locally too (Analytics
 * Engine cannot be read back under wrangler dev). Each isolate counts in memory
 * and adds its counts here at most once a minute (worker/observability/counters.ts),
 * so nothing on the send path writes D1. Bounded: the Cron deletes rows older
 * than 8 days.
 */
export const opsCounters = sqliteTable(
  "ops_counters",
  {
    /** floor(epoch ms / 300000). */
    bucket: integer("bucket").notNull(),
    metric: text("metric").notNull(),
    value: integer("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.bucket, t.metric] })],
);

// ── Identity (passkeys, social sign-in, OTP verification). Phone numbers and
// emails are never stored in clear: AES-GCM ciphertext (key_version says which
// PII key) plus an HMAC blind index for exact lookup. See worker/identity/pii.ts.

/** A user's verified email / phone (one per channel). A target belongs to at most one user. */
export const userContacts = sqliteTable(
  "user_contacts",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    channel: text("channel", { enum: ["email", "phone"] }).notNull(),
    /** base64url AES-GCM ciphertext of the normalized target. */
    ciphertext: text("ciphertext").notNull(),
    iv: text("iv").notNull(),
    keyVersion: integer("key_version").notNull(),
    /** hex HMAC-SHA256 of `channel:target` under the blind-index key of key_version. */
    blindIndex: text("blind_index").notNull(),
    verifiedAt: integer("verified_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.channel] }),
    uniqueIndex("user_contacts_blind_index").on(t.channel, t.blindIndex),
  ],
);

/** Social identities (Google, GitHub). One identity never belongs to two users. */
export const oauthIdentities = sqliteTable(
  "oauth_identities",
  {
    provider: text("provider").notNull(),
    /** The provider's stable user id (Google `sub`, GitHub numeric id). */
    subject: text("subject").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    createdAt: integer("created_at").notNull().default(now),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [primaryKey({ columns: [t.provider, t.subject] }), index("oauth_identities_user").on(t.userId)],
);

/** One-time codes sent to an email or phone. The code is stored only as an HMAC. */
export const verifications = sqliteTable(
  "verifications",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    channel: text("channel", { enum: ["email", "phone"] }).notNull(),
    targetBlindIndex: text("target_blind_index").notNull(),
    targetCiphertext: text("target_ciphertext").notNull(),
    targetIv: text("target_iv").notNull(),
    keyVersion: integer("key_version").notNull(),
    codeHmac: text("code_hmac").notNull(),
    expiresAt: integer("expires_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    createdAt: integer("created_at").notNull().default(now),
    consumedAt: integer("consumed_at"),
  },
  (t) => [index("verifications_user").on(t.userId), index("verifications_expires").on(t.expiresAt)],
);

/**
 * Development only: what the `dev` OTP provider "sent" (read at GET /v1/dev/outbox).
 * It stands in for the SMS/email provider, so it holds targets in clear; nothing
 * writes here unless OTP_PROVIDER=dev and ENVIRONMENT=development.
 */
export const devOutbox = sqliteTable(
  "dev_outbox",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    to: text("to").notNull(),
    channel: text("channel").notNull(),
    text: text("text").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("dev_outbox_to").on(t.to)],
);

// ── Notification rails (worker/notify/). Bounded per user (one row per channel)
// or by retention (attempts, delivery keys and dead letters are purged by the
// cron after NOTIFY_RETENTION_DAYS): nothing here grows with messages for good.

/**
 * A user's notification channels: telegram, whatsapp, x, webhook, email. The
 * credentials (chat id, phone, X user id, webhook URL + signing secret) are one
 * AES-GCM sealed JSON (PII key, associated data `channel:<userId>:<channel>`).
 */
export const channels = sqliteTable(
  "channels",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    channel: text("channel", { enum: ["telegram", "whatsapp", "x", "webhook", "email"] }).notNull(),
    status: text("status", { enum: ["pending", "connected", "revoked"] }).notNull(),
    consentVersion: text("consent_version").notNull(),
    consentAt: integer("consent_at").notNull(),
    connectedAt: integer("connected_at"),
    includeBody: integer("include_body", { mode: "boolean" }).notNull().default(false),
    /** Notify only for messages priced at or above this (base units). */
    minPrice: text("min_price").notNull().default("0"),
    ciphertext: text("ciphertext"),
    iv: text("iv"),
    keyVersion: integer("key_version"),
    /** Blind index of the provider-side identity (Telegram chat, X user) for webhook lookups. */
    subjectIndex: text("subject_index"),
    /** SHA-256 of the one-time Telegram deep-link token while pending. */
    connectTokenHash: text("connect_token_hash"),
    connectExpiresAt: integer("connect_expires_at"),
    lastDeliveredAt: integer("last_delivered_at"),
    lastError: text("last_error"),
    lastErrorAt: integer("last_error_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.channel] }),
    index("channels_subject").on(t.channel, t.subjectIndex),
    uniqueIndex("channels_connect_token").on(t.connectTokenHash),
  ],
);

/**
 * One row per notification per channel: the idempotency claim. `key` is the
 * messageId (or a digest of several, or a test id). Purged after retention.
 */
export const deliveries = sqliteTable(
  "deliveries",
  {
    key: text("key").notNull(),
    channel: text("channel").notNull(),
    userId: text("user_id").notNull(),
    state: text("state", { enum: ["sending", "delivered", "retry", "failed", "dead"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    claimedAt: integer("claimed_at").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.channel] }), index("deliveries_created").on(t.createdAt)],
);

/** Every delivery attempt: outcome, provider status code, latency. No secrets, no message bodies. */
export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    key: text("key").notNull(),
    channel: text("channel").notNull(),
    userId: text("user_id").notNull(),
    attempt: integer("attempt").notNull(),
    /** delivered | retry | failed (permanent) | revoked */
    outcome: text("outcome").notNull(),
    /** HTTP status, or 0 when the provider could not be reached. */
    providerCode: integer("provider_code").notNull(),
    /** The provider's id for what it accepted (WhatsApp message id), for its status callbacks. */
    providerMessageId: text("provider_message_id"),
    /** delivered | read | failed, from provider status callbacks. */
    providerStatus: text("provider_status"),
    latencyMs: integer("latency_ms").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("delivery_attempts_created").on(t.createdAt),
    index("delivery_attempts_key").on(t.key, t.channel),
    index("delivery_attempts_provider_id").on(t.providerMessageId),
  ],
);

/** Jobs that used up their retries (recorded by the dead-letter queue consumer); redriven by ops. */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    key: text("key").notNull(),
    channel: text("channel").notNull(),
    userId: text("user_id").notNull(),
    /** The queue job as JSON (never a message body: bodies are read from the Account at delivery). */
    job: text("job").notNull(),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    redrivenAt: integer("redriven_at"),
  },
  (t) => [uniqueIndex("dead_letters_key").on(t.key, t.channel), index("dead_letters_created").on(t.createdAt)],
);
// ── Chain mode (LEDGER_MODE=chain). Bounded: one checkpoint per vault, one row per
// unlinked address that holds vault funds — nothing per event.

/** The indexer's position: the last block whose vault events are all applied, and its hash (reorg check). */
export const chainCheckpoints = sqliteTable("chain_checkpoints", {
  /** `<chainId>:<vault address>` */
  id: text("id").primaryKey(),
  blockNumber: integer("block_number").notNull(),
  blockHash: text("block_hash").notNull(),
  /** Unix seconds of that block (lag in seconds = now − this). */
  blockTime: integer("block_time").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Who may step the indexer of one vault (`<chainId>:<vault>`): cron runs are
 * not serialised and two overlapping runs could fold unclaimed funds out of
 * order (worker/chain/indexer-lease.ts). `holder` is a run's random id; the
 * lease lapses at `until` (ms) if its holder dies, and is renewed before each step.
 */
export const indexerLeases = sqliteTable("indexer_leases", {
  id: text("id").primaryKey(),
  holder: text("holder").notNull(),
  until: integer("until").notNull(),
});

/**
 * Vault balance of an address no user has linked yet: deposits and payments
 * received, less withdrawals, as one running amount. Credited to the user who
 * links the wallet (then the row is deleted). `(last_block, last_log_index)` is
 * the newest event folded in, so a replayed range adds nothing twice.
 */
export const unclaimedDeposits = sqliteTable("unclaimed_deposits", {
  address: text("address").primaryKey(),
  amount: text("amount").notNull(),
  lastBlock: integer("last_block").notNull(),
  lastLogIndex: integer("last_log_index").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
