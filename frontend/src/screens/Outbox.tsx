// Sent messages with what each cost and where its payment stands.
import { useInfiniteQuery } from "@tanstack/react-query";
import { type ReactNode, useEffect } from "react";
import { Link } from "wouter";
import { outboxQuery } from "../api/queries";
import type { OutboxMessage } from "../api/types";
import { TxLink } from "../chain/TxLink";
import { LoadMore } from "../components/LoadMore";
import { Empty, ErrorNote, Loading, PageHeader, Usdc } from "../components/ui";
import { ago } from "../lib/time";

const OUT_STATUS: Record<string, string> = {
  pending: "Sending",
  delivered: "Delivered",
  escrowed: "Delivered · held until they reply",
  released: "Replied · paid",
  refunded: "No reply in time · refunded",
  aborted: "Not delivered · refunded",
  accepted: "Signed · settling on chain",
  paid: "Paid on chain",
  payment_failed: "Payment failed · not charged",
};

/** Why the vault refused a payment, in words (the outbox's `failure` is the vault's error name). */
const FAILURE: Record<string, string> = {
  InsufficientBalance: "your vault balance no longer covered it (a withdrawal came first)",
  PaymentExpired: "it was not settled before its signature expired",
  InvalidNonce: "an earlier payment of yours failed first",
  InvalidSignature: "the wallet's signature was not accepted",
  SettlementReverted: "the relayer could not get it on chain (its transactions kept failing)",
};

/**
 * What a sent message cost you in the end: nothing when it failed or was aborted
 * (all refunded), only the fee when an escrow was refunded, else price + fee.
 */
function spent(m: OutboxMessage): bigint {
  if (m.status === "aborted" || m.status === "payment_failed") return 0n;
  if (m.status === "refunded") return BigInt(m.fee);
  return BigInt(m.price) + BigInt(m.fee);
}

/** What happened to a message that did not end as paid, and what came back, in a sentence. */
function Outcome({ m }: { m: OutboxMessage }) {
  let words: ReactNode = null;
  if (m.status === "refunded") {
    words = (
      <>
        They didn't reply in time, so the <Usdc value={m.price} /> price came back to you. The <Usdc value={m.fee} />{" "}
        fee is kept.
      </>
    );
  } else if (m.status === "aborted") {
    words = (
      <>
        It didn't reach them, so all <Usdc value={BigInt(m.price) + BigInt(m.fee)} /> came back to you.
      </>
    );
  } else if (m.status === "payment_failed" && m.failure) {
    words = <>The payment failed because {FAILURE[m.failure] ?? m.failure}. You were not charged.</>;
  }
  return words ? (
    <span className="outcome" data-testid="outbox-outcome">
      {words}
    </span>
  ) : null;
}

export default function Outbox() {
  const outbox = useInfiniteQuery(outboxQuery);
  useEffect(() => {
    document.title = "Sent · Paid Inbox";
  }, []);
  const messages = outbox.data?.pages.flatMap((p) => p.messages) ?? [];
  return (
    <div>
      <PageHeader title="Sent messages" />
      {outbox.isPending ? <Loading label="Loading sent messages…" /> : null}
      {outbox.isError ? <ErrorNote error={outbox.error} retry={() => outbox.refetch()} /> : null}
      {outbox.isSuccess && messages.length === 0 ? (
        <Empty title="You haven't sent anything yet">
          <p>Open someone's link (paidinbox/@handle) to write to them.</p>
        </Empty>
      ) : null}
      {messages.length > 0 ? (
        <ul className="messages" aria-label="Sent messages">
          {messages.map((m) => (
            <li key={m.messageId} className="message">
              <div className="message-link">
                <span className="message-top">
                  <span className="from">
                    To {m.to.handle ? <Link href={`/@${m.to.handle}`}>@{m.to.handle}</Link> : "someone"}
                  </span>
                  <span className="price-badge spent" data-testid="outbox-amount">
                    <span className="sr-only">Amount: </span>
                    <Usdc value={-spent(m)} />
                  </span>
                </span>
                <span className="snippet">{m.body.slice(0, 140)}</span>
                <span className="meta">
                  <time dateTime={m.createdAt}>{ago(m.createdAt)}</time>
                  <span className={`chip status-${m.status}`} data-testid="outbox-status">
                    {OUT_STATUS[m.status] ?? m.status}
                  </span>
                  {m.txHash ? <TxLink hash={m.txHash} /> : null}
                </span>
                <Outcome m={m} />
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      <LoadMore
        hasNext={outbox.hasNextPage}
        loading={outbox.isFetchingNextPage}
        onLoad={() => outbox.fetchNextPage()}
      />
    </div>
  );
}
