// The send path on both Accounts: receive (the recipient's) → debit (the
// sender's) → settle (the sender's, group-committed by Account.settle and applied
// here inside its next commit). Kept in one file so the protocol reads top-down;
// every await says what may interleave there. See docs/architecture.md "Send path".
import { config } from "../../worker/config";
import { type Charge, FREE_REPLY, quote, type SenderRelation } from "../../worker/domain/pricing";
import { type BucketLimit, check, spend, take } from "../../worker/domain/rate-limit";
import { admitFirstContact, withFailedPayment } from "../../worker/domain/reputation";
import {
  type ChainFail,
  type ChainPayment,
  checkChainDebit,
  holdChainPayment,
  markAccepted,
  signatureValid,
} from "./chain";
import { freeReplyOpen, sentTo } from "./escrow";
import { inboxRow } from "./history-pages";
import { HOLD_RESOLVE_AFTER_MS, releaseEscrow } from "./holds";
import { currentReputation } from "./moderation";
import {
  type AccountCore,
  big,
  type DebitRequest,
  type DebitResult,
  type Fail,
  iso,
  type ReceiveResult,
  type Row,
  type SendReceipt,
  type SendRequest,
  type Tx,
} from "./types";

/** Called by the Worker on the recipient's Account. */
export async function receive(account: AccountCore, req: SendRequest): Promise<ReceiveResult> {
  const known = lookupSender(account.sql, req.senderId, req.messageId);
  // (A replay of an archived message awaits R2 here; it only reads and answers.)
  const existing = known.seen ? await inboxRow(account.sql, account.env.ARCHIVE, req.messageId) : null;
  if (existing) {
    if (existing.request_hash !== req.requestHash || existing.sender_id !== req.senderId) {
      return { ok: false, code: "idempotency_conflict" };
    }
    return { ok: true, replayed: true, receipt: receiptOf(existing) };
  }
  if (req.expectHandle !== null && req.expectHandle !== account.s.handle) return { ok: false, code: "stale_recipient" };
  if (account.inFlight.has(req.messageId)) return { ok: false, code: "idempotency_in_progress" };
  if (known.tombstoned) return { ok: false, code: "message_aborted" };
  // The first reply to our escrowed message is free and not ours to refuse
  // (account/escrow.ts); the replier's Account confirms the claim in debit().
  const free = req.freeReply && req.inReplyTo !== null && sentTo(account.sql, req.inReplyTo, req.senderId);
  let q: Charge = FREE_REPLY;
  if (!free) {
    if (known.blocked) return { ok: false, code: "sender_blocked" };
    q = quote(account.s.policy, known.relation, config(account.env).feeBps);
    if (req.maxPrice !== null && q.price > BigInt(req.maxPrice)) {
      return { ok: false, code: "price_above_max", price: `${q.price}` };
    }
    // Capacity is checked now but spent only once the sender has paid, so
    // failed attempts (a broke sender, say) never use it up.
    const full = check(account.s.receiveBucket, account.limits().receive, Date.now());
    if (!full.ok) return { ok: false, code: "rate_limited", retryAfterSeconds: full.retryAfterSeconds };
  }
  if (req.chainRequired && !req.chain && q.price > 0n) {
    return { ok: false, code: "payment_intent_required", price: `${q.price}` };
  }
  // A free message has nothing to settle on chain (the vault refuses zero amounts).
  if (req.chain && q.price === 0n) req = { ...req, chain: undefined };

  const userId = account.userId();
  // On chain the vault pays the recipient directly; it cannot hold a price until a reply.
  const escrow = account.s.policy.settlement === "on_reply" && !free && !req.chain;
  const replyWindowMs = account.s.policy.replyWindowHours * 3_600_000;

  // While we await the sender, other requests to this Account run. inFlight
  // makes resolve() answer "pending" for this message instead of aborting it.
  account.inFlight.add(req.messageId);
  let debit: DebitResult;
  try {
    debit = await account.env.ACCOUNT.getByName(req.senderId).debit({
      messageId: req.messageId,
      recipientId: userId,
      recipientHandle: account.s.handle,
      price: `${q.price}`,
      fee: `${q.fee}`,
      body: req.body,
      requestHash: req.requestHash,
      inReplyTo: req.inReplyTo,
      chain: req.chain,
      freeReply: free,
      abuse: req.abuse,
    });
    if (account.faults.has("receive:crash_after_debit")) {
      // A crash here loses the in-memory inFlight set along with the instance.
      account.inFlight.delete(req.messageId);
      throw new Error("fault: receive:crash_after_debit");
    }
  } catch (err) {
    account.inFlight.delete(req.messageId);
    throw err;
  }
  if (!debit.ok) {
    account.inFlight.delete(req.messageId);
    return debit;
  }

  const now = Date.now();
  if (!free) account.s.receiveBucket = spend(account.s.receiveBucket, account.limits().receive, now);
  // Chain payments are `accepted` until the indexer sees their MessagePaid.
  const status = req.chain ? "accepted" : escrow ? "escrowed" : "delivered";
  // If this commit throws, the sender's hold is resolved by its alarm (we answer
  // "aborted"), so inFlight must not outlive it.
  try {
    commitReceived(
      account,
      req,
      q,
      debit.senderHandle,
      status,
      escrow ? now + replyWindowMs : null,
      !known.relation.hasSentBefore,
      now,
    );
  } finally {
    account.inFlight.delete(req.messageId);
  }
  if (escrow) account.ensureAlarm(now + replyWindowMs);
  return {
    ok: true,
    replayed: false,
    receipt: {
      messageId: req.messageId,
      price: `${q.price}`,
      fee: `${q.fee}`,
      total: `${q.total}`,
      status,
      createdAt: iso(now) as string,
    },
  };
}

/** The recipient's half of a send, in one transaction: the message, the money, the contact. */
export function commitReceived(
  account: AccountCore,
  req: SendRequest,
  q: Charge,
  senderHandle: string | null,
  status: "delivered" | "escrowed" | "accepted",
  escrowUntil: number | null,
  firstFromSender: boolean,
  now: number,
): void {
  account.commit((tx) => {
    account.sql.exec(
      `INSERT INTO inbox (message_id, sender_id, sender_handle, body, price, fee, status, request_hash, created_at,
         in_reply_to, escrow_until, escrow_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      req.messageId,
      req.senderId,
      senderHandle,
      req.body,
      `${q.price}`,
      `${q.fee}`,
      status,
      req.requestHash,
      now,
      req.inReplyTo,
      escrowUntil,
      escrowUntil === null ? null : "held",
    );
    if (account.faults.has("receive:commit_throws")) throw new Error("fault: receive:commit_throws");
    // An accepted chain payment is credited when its MessagePaid is indexed (account/chain.ts).
    if (status !== "accepted") {
      if (escrowUntil !== null) tx.entry("hold", q.price, { held: q.price }, req.messageId);
      else tx.entry("receive", q.price, { balance: q.price }, req.messageId);
      tx.entry("fee", q.fee, { fees: q.fee }, req.messageId);
    }
    if (firstFromSender) {
      account.sql.exec(
        "INSERT INTO contacts (user_id, received) VALUES (?, 1) ON CONFLICT (user_id) DO UPDATE SET received = 1",
        req.senderId,
      );
    }
    // (The new message reaches the index from the inbox table itself; see account/outbox-flush.ts.)
  });
}

/** Called by the recipient's Account on the sender's: hold price + fee. Idempotent on messageId. */
export async function debit(account: AccountCore, d: DebitRequest): Promise<DebitResult> {
  if (account.faults.has("debit:throw_before_hold")) throw new Error("fault: debit:throw_before_hold");
  // One query: this message's hold if any, and whether we have written to the recipient before.
  const found = account.sql
    .exec(
      `SELECT o.message_id, o.request_hash, o.recipient_id, o.hold_state,
              (SELECT sent FROM contacts WHERE user_id = ?2) AS sent
       FROM (SELECT 1) LEFT JOIN outbox o ON o.message_id = ?1`,
      d.messageId,
      d.recipientId,
    )
    .one();
  const existing = found.message_id === null ? null : found;
  if (existing) {
    if (existing.request_hash !== d.requestHash || existing.recipient_id !== d.recipientId) {
      return { ok: false, code: "idempotency_conflict" };
    }
    if (existing.hold_state === "released") return { ok: false, code: "message_aborted" };
    return { ok: true, senderHandle: account.s.handle };
  }
  if (account.s.frozen !== null) return { ok: false, code: "account_frozen" };
  if (d.chain) {
    const refused = await checkChainPayment(account, d, d.chain);
    if (refused) return refused;
  }
  const price = BigInt(d.price);
  const fee = BigInt(d.fee);
  const total = price + fee;
  const now = Date.now();
  if (d.freeReply && (total !== 0n || !d.inReplyTo || !freeReplyOpen(account.sql, d.inReplyTo, d.recipientId, now))) {
    return { ok: false, code: "free_reply_unavailable" }; // the Worker sends it as an ordinary reply
  }
  // Every attempt counts against the sender, paid or not (so a broke sender
  // hammering a recipient is limited here, not at the recipient's capacity).
  // A free reply is exempt: there is one per escrowed message, each paid for.
  const limited = d.freeReply ? null : takeToken(account, "sendBucket", account.limits().send);
  if (limited) return limited;
  if (total > account.s.balance) {
    // A failed payment counts against the sender's reputation (persisted with the next commit).
    if (d.abuse) account.s.reputation = withFailedPayment(currentReputation(account, now), now);
    return { ok: false, code: "insufficient_balance", required: `${total}`, balance: `${account.s.balance}` };
  }
  // Abuse controls apply to first contacts only (never to a free reply): nobody is
  // slowed writing to someone they wrote to before. Decided before any money moves.
  let reputation = account.s.reputation;
  if (d.abuse && !d.freeReply && found.sent !== 1) {
    const a = admitFirstContact(currentReputation(account, now), d.abuse, now);
    if (!a.ok) {
      account.s.reputation = a.reputation;
      return a.status === 403
        ? { ok: false, code: "sender_restricted", reason: a.reason }
        : { ok: false, code: "rate_limited", retryAfterSeconds: a.retryAfterSeconds, reason: a.reason };
    }
    reputation = a.reputation;
  }
  account.commit((tx) => {
    tx.s.reputation = reputation;
    account.sql.exec(
      `INSERT INTO outbox (message_id, recipient_id, recipient_handle, body, price, fee, status, request_hash,
         in_reply_to, hold_state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, 'held', ?, ?)`,
      d.messageId,
      d.recipientId,
      d.recipientHandle,
      d.body,
      d.price,
      d.fee,
      d.requestHash,
      d.inReplyTo,
      now,
      now,
    );
    tx.entry("hold", total, { balance: -total, held: total }, d.messageId);
    if (d.chain) holdChainPayment(account.sql, d.messageId, d.chain, total);
    if (found.sent !== 1) {
      account.sql.exec(
        "INSERT INTO contacts (user_id, sent) VALUES (?, 1) ON CONFLICT (user_id) DO UPDATE SET sent = 1",
        d.recipientId,
      );
    }
  });
  account.ensureAlarm(now + HOLD_RESOLVE_AFTER_MS);
  if (account.faults.has("debit:throw_after_hold")) throw new Error("fault: debit:throw_after_hold");
  return { ok: true, senderHandle: account.s.handle };
}

/** Checks a signed payment before anything is held. The signature check may await the RPC. */
export async function checkChainPayment(
  account: AccountCore,
  d: DebitRequest,
  c: ChainPayment,
): Promise<ChainFail | null> {
  const check = () => checkChainDebit(account.sql, c, d.messageId, d.body, BigInt(d.price));
  const early = check();
  if (early) return early;
  // Other requests may run while the signature is checked (a smart account's goes through the RPC)…
  if (!(await signatureValid(c))) return { ok: false, code: "invalid_signature" };
  // …so a second tab may have taken this nonce meanwhile: check again, with no await until the commit.
  return check();
}

/** Applies pending settles inside the current commit; true if a reply released an escrow. */
export function applySettles(account: AccountCore, tx: Tx, settles: [string, string][]): boolean {
  let released = false;
  const now = Date.now();
  for (const [messageId, status] of settles) {
    // One statement for an ordinary hold (no chain payment: settle_job IS NULL)…
    const row = account.sql
      .exec(
        `UPDATE outbox SET hold_state = 'settled', status = CASE status WHEN 'pending' THEN ? ELSE status END,
           updated_at = ? WHERE message_id = ? AND hold_state = 'held' AND settle_job IS NULL
           RETURNING price, fee, in_reply_to, created_at`,
        status,
        now,
        messageId,
      )
      .toArray()[0];
    if (!row) {
      // …else a chain payment is not paid yet: it waits for its receipt, and its SettleJob goes to the queue.
      if (markAccepted(account.sql, messageId, now)) account.settleJobsDue();
      continue; // (or already settled, or released by the alarm)
    }
    tx.entry("send", big(row.price), { held: -big(row.price) }, messageId);
    tx.entry("fee", big(row.fee), { held: -big(row.fee) }, messageId);
    // A delivered reply releases the escrowed payment of the message it answers,
    // if it was sent within that message's reply window.
    if (row.in_reply_to && releaseEscrow(account, tx, row.in_reply_to as string, row.created_at as number)) {
      released = true;
    }
  }
  return released;
}

/** What this recipient knows about a sender, in one query. */
export function lookupSender(sql: SqlStorage, senderId: string, messageId: string | null) {
  const r = sql
    .exec<{
      seen: number | null;
      tomb: number | null;
      blocked: number | null;
      received: number | null;
      sent: number | null;
      allow: number | null;
    }>(
      `SELECT COALESCE((SELECT 1 FROM inbox WHERE message_id = ?1),
                       (SELECT 1 FROM archived_ids WHERE message_id = ?1)) AS seen,
              (SELECT 1 FROM tombstones WHERE message_id = ?1) AS tomb,
              (SELECT 1 FROM blocklist WHERE user_id = ?2) AS blocked,
              (SELECT received FROM contacts WHERE user_id = ?2) AS received,
              (SELECT sent FROM contacts WHERE user_id = ?2) AS sent,
              (SELECT discount_bps FROM allowlist WHERE user_id = ?2) AS allow`,
      messageId,
      senderId,
    )
    .one();
  const relation: SenderRelation = {
    allowlistBps: r.allow,
    hasSentBefore: r.received === 1,
    recipientHasSent: r.sent === 1,
  };
  return { seen: r.seen === 1, tombstoned: r.tomb === 1, blocked: r.blocked === 1, relation };
}

/** Takes a rate-limit token (persisted with the next commit), or says how long to wait. */
export function takeToken(
  account: AccountCore,
  which: "sendBucket" | "receiveBucket",
  limit: BucketLimit,
): Fail<"rate_limited", { retryAfterSeconds: number }> | null {
  const r = take(account.s[which], limit, Date.now());
  if (!r.ok) return { ok: false, code: "rate_limited", retryAfterSeconds: r.retryAfterSeconds };
  account.s[which] = r.bucket;
  return null;
}

/** Inbox statuses of chain payments: a replayed send answers `accepted`, as the first answer did. */
const CHAIN_STATUSES = new Set(["accepted", "paid", "payment_failed"]);

function receiptOf(r: Row): SendReceipt {
  const price = big(r.price);
  const fee = big(r.fee);
  return {
    messageId: r.message_id as string,
    price: `${price}`,
    fee: `${fee}`,
    total: `${price + fee}`,
    status: r.escrow_state ? "escrowed" : CHAIN_STATUSES.has(r.status as string) ? "accepted" : "delivered",
    createdAt: iso(r.created_at as number) as string,
  };
}
