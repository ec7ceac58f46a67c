// One message: read it (marked read on open) and reply. A reply to a message
// that pays on reply releases the held payment to you.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Link } from "wouter";
import { api, call } from "../api/client";
import { useRecipient } from "../api/queries";
import type { Quote } from "../api/types";
import { Compose } from "../components/Compose";
import { ErrorNote, Loading, Note, Usdc } from "../components/ui";
import { countdown, dateTime } from "../lib/time";
import { PriceBadge, STATUS_WORDS } from "./Inbox";
import { NotFound } from "./NotFound";

export default function Message({ messageId }: { messageId: string }) {
  const qc = useQueryClient();
  const message = useQuery({
    queryKey: ["inbox", "one", messageId],
    queryFn: () => call(api.GET("/v1/inbox/{messageId}", { params: { path: { messageId } } })),
  });
  const m = message.data;
  const markRead = useMutation({
    mutationFn: () => call(api.POST("/v1/inbox/{messageId}/read", { params: { path: { messageId } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["inbox"] }),
  });
  const unread = m !== undefined && !m.readAt;
  const { mutate } = markRead;
  useEffect(() => {
    if (unread) mutate();
  }, [unread, mutate]);
  useEffect(() => {
    document.title = "Message · Paid Inbox";
  }, []);

  if (message.isPending) return <Loading label="Loading the message…" />;
  if (message.isError) {
    if ((message.error as { status?: number }).status === 404) return <NotFound title="Message not found" />;
    return <ErrorNote error={message.error} retry={() => message.refetch()} />;
  }
  if (!m) return null;
  const from = m.from.handle ? `@${m.from.handle}` : "a sender without a handle";
  return (
    <div className="message-view">
      <p>
        <Link href="/inbox">← Inbox</Link>
      </p>
      <article className="card">
        <header className="message-top">
          <h1>From {m.from.handle ? <Link href={`/@${m.from.handle}`}>{from}</Link> : from}</h1>
          <PriceBadge m={m} />
        </header>
        <p className="meta">
          <time dateTime={m.createdAt}>{dateTime(m.createdAt)}</time>
          <span className={`chip status-${m.status}`}>{STATUS_WORDS[m.status] ?? m.status}</span>
        </p>
        <div className="body">{m.body}</div>
      </article>
      {m.status === "escrowed" && m.replyBy ? (
        <Note kind="warn">
          <Usdc value={m.price} /> is held for you. Reply by {dateTime(m.replyBy)} ({countdown(Date.parse(m.replyBy))}{" "}
          left) to collect it; otherwise it goes back to {from}.
        </Note>
      ) : null}
      {m.status === "released" ? (
        <Note kind="success">
          You replied: <Usdc value={m.price} /> was paid to you.
        </Note>
      ) : null}
      <Reply messageId={messageId} fromId={m.from.id} name={from} escrowed={m.status === "escrowed" ? m.price : null} />
    </div>
  );
}

/** The first reply to a message that pays on reply is free: it is what releases the payment. */
const FREE: Quote = { price: "0", fee: "0", total: "0", reason: "default" };

function Reply({
  messageId,
  fromId,
  name,
  escrowed,
}: {
  messageId: string;
  fromId: string;
  name: string;
  escrowed: string | null;
}) {
  const qc = useQueryClient();
  const recipient = useRecipient(fromId);
  if (recipient.isPending) return <Loading label="Getting the reply price…" />;
  if (recipient.isError) return <ErrorNote error={recipient.error} retry={() => recipient.refetch()} />;
  return (
    <Compose
      target={{ kind: "reply", messageId, to: fromId }}
      name={name}
      quote={escrowed ? FREE : recipient.data.quote}
      priceNote={
        escrowed ? (
          <p className="quote">
            Your reply is free, and it releases the <Usdc value={escrowed} /> held for you.
          </p>
        ) : undefined
      }
      pricing={recipient.data.pricing}
      refetchQuote={() => Promise.all([recipient.refetch(), qc.invalidateQueries({ queryKey: ["inbox"] })])}
      draftKey={`pi:reply:${messageId}`}
    />
  );
}
