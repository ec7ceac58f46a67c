// Inbox: newest first, unread marked, price on each message, countdown on
// messages that pay when you reply.
import { useInfiniteQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { Link } from "wouter";
import { inboxQuery, useMe } from "../api/queries";
import type { InboxMessage } from "../api/types";
import { LoadMore } from "../components/LoadMore";
import { Empty, ErrorNote, Loading, PageHeader, Usdc } from "../components/ui";
import { ago, countdown } from "../lib/time";

export const STATUS_WORDS: Record<string, string> = {
  delivered: "Paid",
  escrowed: "Reply to collect",
  released: "Paid on reply",
  refunded: "Refunded to sender",
  accepted: "Settling",
  pending: "Sending",
  aborted: "Failed, refunded",
};

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
          <span className="price-badge">
            <Usdc value={m.price} />
          </span>
        </span>
        <span className="snippet">{m.body.slice(0, 140)}</span>
        <span className="meta">
          <time dateTime={m.createdAt}>{ago(m.createdAt)}</time>
          <span className={`chip status-${m.status}`}>
            {STATUS_WORDS[m.status] ?? m.status}
            {m.status === "escrowed" && m.replyBy ? ` · ${countdown(Date.parse(m.replyBy))} left` : ""}
          </span>
        </span>
      </Link>
    </li>
  );
}
