// Chain-mode work the Account does outside a commit: failing accepted
// payments whose deadline the indexed chain has passed, and telling recipients
// about failed payments. The rules themselves are in chain.ts.

import { errorSummary } from "../../worker/observability/log";
import { applyChainEvent, failureNoticed, failureNotices, nextDeadline, pastDeadline } from "./chain";
import { type AccountCore, RETRY_MS } from "./types";

/**
 * An accepted payment can never settle once the chain's time is past its
 * deadline (the vault refuses it). When the indexer's checkpoint block is
 * past the deadline, every event up to it is applied, so had it been paid we
 * would know. It fails as
 * `PaymentExpired`, without waiting for a skip the relayer may never send.
 */
export async function expireChainPayments(account: AccountCore): Promise<void> {
  if (nextDeadline(account.sql) === null) return;
  // Other requests may run during this read; applyChainEvent re-checks each hold.
  const cp = await account.env.DB.prepare("SELECT MAX(block_time) AS t FROM chain_checkpoints").first<{
    t: number | null;
  }>();
  if (!cp?.t) return;
  for (const o of pastDeadline(account.sql, cp.t)) {
    account.commit((tx) =>
      applyChainEvent(
        account.sql,
        tx,
        { t: "skipped", ref: `expired:${o.messageId}`, messageId: o.messageId, nonce: "0", reason: "PaymentExpired" },
        Date.now(),
      ),
    );
  }
  await noticeFailedPayments(account);
}

/** Tells recipients that payments to them failed (their inbox shows payment_failed); the alarm retries. */
export async function noticeFailedPayments(account: AccountCore): Promise<void> {
  for (const n of failureNotices(account.sql)) {
    try {
      await account.env.ACCOUNT.getByName(n.recipientId).chainApply({
        t: "failed_in",
        ref: `failed:${n.messageId}`,
        messageId: n.messageId,
        reason: n.reason,
      });
    } catch (err) {
      console.warn(`payment failure notice deferred: ${errorSummary(err)}`);
      account.ensureAlarm(Date.now() + RETRY_MS);
      continue;
    }
    failureNoticed(account.sql, n.messageId);
  }
}
