// Pay-on-reply escrow: the rules the send path asks about (docs/architecture.md
// "Escrow"). The first reply to an escrowed message is free and cannot be refused
// by the original sender's blocklist, price or rate limits, because that reply is
// what releases the money; if the sender could refuse it, the sender could always
// get its money back. The replier's Account (it holds the escrow) is the authority.

/**
 * The original sender's check: we really sent `messageId` to `replierId`, so a
 * free reply is answering one of our messages (not a made-up claim).
 */
export function sentTo(sql: SqlStorage, messageId: string, replierId: string): boolean {
  return (
    sql
      .exec(
        "SELECT 1 FROM outbox WHERE message_id = ? AND recipient_id = ? AND hold_state != 'released'",
        messageId,
        replierId,
      )
      .toArray().length === 1
  );
}

/**
 * The replier's check, authoritative and taken with the debit (no await between):
 * the escrow of `messageId` from `originalSenderId` is still held, the window is
 * open at `now`, and no earlier reply (delivered or in flight) has claimed it.
 * An aborted reply (hold released) leaves the claim open for another try.
 */
export function freeReplyOpen(sql: SqlStorage, messageId: string, originalSenderId: string, now: number): boolean {
  return (
    sql
      .exec(
        `SELECT 1 FROM inbox i WHERE i.message_id = ?1 AND i.sender_id = ?2 AND i.escrow_state = 'held'
           AND i.escrow_until >= ?3
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.in_reply_to = ?1 AND o.hold_state != 'released')`,
        messageId,
        originalSenderId,
        now,
      )
      .toArray().length === 1
  );
}
