// Inbox: newest first, unread marked, price on each message, countdown on
// messages that pay when you reply.
import { useInfiniteQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { Link } from "wouter";
import { inboxQuery, useMe } from "../api/queries";
import type { InboxMessage } from "../api/types";
import { LoadMore } from "../components/LoadMore";
import { Empty, ErrorNote, Loading, PageHeader, Usdc } from "../components/ui";
import { ago, countdown, dateTime } from "../lib/time";

export const STATUS_WORDS: Record<string, string> = {
  delivered: "Paid",
  escrowed: "Held until you reply",
  released: "Paid on reply",
  refunded: "Refunded to sender",
  accepted: "Settling",
  pending: "Sending",
  aborted: "Failed, refunded",
};

/**
 * Only money that is yours is income (green). A held payment is not income yet
 * and a refunded or failed one never was: those are shown neutral, in words.
 */
export function priceKind(status: string): "income" | "held" | "returned" {
  if (status === "delivered" || status === "released" || status === "paid") return "income";
  if (status === "refunded" || status === "aborted" || status === "payment_failed") return "returned";
  return "held";
}

/** The price on a received message, styled and worded by whether it is yours yet. */
export function PriceBadge({ m }: { m: Pick<InboxMessage, "price" | "status"> }) {
  const kind = priceKind(m.status);
  return (
    <span className={`price-badge ${kind}`} data-testid="inbox-amount">
      <Usdc value={m.price} />
      {kind === "held" ? <span className="price-word"> held</span> : null}
      {kind === "returned" ? <span className="sr-only"> (not yours: returned to the sender)</span> : null}
    </span>
  );
}

/** "Held until you reply by 1 Dec 2026, 14:00 (1 d 23 h left)". */
export function heldWords(replyBy: string): string {
  return `Held until you reply by ${dateTime(replyBy)} (${countdown(Date.parse(replyBy))} left)`;
}

export default function Inbox() {
  const inbox = useInfiniteQuery(inboxQuery);
  const me = useMe();
  useEffect(() => {
    document.title = "Inbox · Paid Inbox";
  }, []);
  const messages = inbox.data?.pages.flatMap((p) => p.messages) ?? [];
  const unread = inbox.data?.pages[0]?.unread ?? 0;
  return (
    <div>
      <PageHeader title="Inbox">
        <p className="muted" aria-live="polite">
          {inbox.isSuccess ? (unread > 0 ? `${unread} unread` : "All read") : null}
        </p>
      </PageHeader>
      {inbox.isPending ? <Loading label="Loading your inbox…" /> : null}
      {inbox.isError ? <ErrorNote error={inbox.error} retry={() => inbox.refetch()} /> : null}
      {inbox.isSuccess && messages.length === 0 ? (
        <Empty title="No messages yet">
          <p>
            Share your link so people can pay to reach you
            {me.data?.user.handle ? (
              <>
                : <Link href={`/@${me.data.user.handle}`}>/@{me.data.user.handle}</Link>
              </>
            ) : (
              <>
                {" "}
                — first <Link href="/onboarding">pick a handle</Link>
              </>
            )}
            .
          </p>
        </Empty>
      ) : null}
      {messages.length > 0 ? (
        <ul className="messages" aria-label="Messages">
          {messages.map((m) => (
            <MessageRow key={m.messageId} m={m} />
          ))}
        </ul>
      ) : null}
      <LoadMore hasNext={inbox.hasNextPage} loading={inbox.isFetchingNextPage} onLoad={() => inbox.fetchNextPage()} />
      {inbox.isFetchNextPageError ? <ErrorNote error={inbox.error} /> : null}
    </div>
  );
}

function MessageRow({ m }: { m: InboxMessage }) {
  const from = m.from.handle ? `@${m.from.handle}` : "Someone";
  return (
    <li className={m.readAt ? "message" : "message unread"}>
      <Link href={`/inbox/${m.messageId}`} className="message-link">
        <span className="message-top">
          <span className="from">
            {m.readAt ? null : <span className="dot" aria-label="Unread" role="img" />}
            {from}
          </span>
          <PriceBadge m={m} />
        </span>
        <span className="snippet">{m.body.slice(0, 140)}</span>
        <span className="meta">
          <time dateTime={m.createdAt}>{ago(m.createdAt)}</time>
          <span className={`chip status-${m.status}`}>
            {m.status === "escrowed" && m.replyBy ? heldWords(m.replyBy) : (STATUS_WORDS[m.status] ?? m.status)}
          </span>
        </span>
      </Link>
    </li>
  );
}
