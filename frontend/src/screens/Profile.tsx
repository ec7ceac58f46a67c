// /@handle: the shareable "pay to message me" page. A visitor sees the prices and
// can write right away; signing in happens inline, and the draft stays put.
import { useEffect, useState } from "react";
import { Link } from "wouter";
import { useRecipient } from "../api/queries";
import { useSession } from "../auth/session";
import { Compose } from "../components/Compose";
import { ErrorNote, Loading, Note, Usdc } from "../components/ui";
import { NotFound } from "./NotFound";

export function Profile({ handle }: { handle: string }) {
  const session = useSession();
  const recipient = useRecipient(handle);
  // While the receipt of a send shows, its price card is hidden: the receipt says what was paid,
  // and the next message's (possibly different) price is said there in its own words.
  const [sent, setSent] = useState(false);
  const r = recipient.data;
  const name = r ? (r.displayName ?? `@${r.handle}`) : `@${handle}`;

  useEffect(() => {
    if (r) document.title = `Message ${name} (@${r.handle}) · Paid Inbox`;
  }, [r, name]);

  if (recipient.isPending) return <Loading label={`Loading @${handle}…`} />;
  if (recipient.isError) {
    if ((recipient.error as { status?: number }).status === 404) {
      return (
        <NotFound title={`No one is @${handle}`}>
          <p>That handle isn't taken by anyone on Paid Inbox. Check the link you were given.</p>
        </NotFound>
      );
    }
    return <ErrorNote error={recipient.error} retry={() => recipient.refetch()} />;
  }
  if (!r) return null;
  const self = session.status === "signed-in" && session.user.id === r.id;
  const onReply = r.pricing.settlement === "on_reply";

  return (
    <div className="profile">
      <section className="card profile-head">
        <div className="avatar" aria-hidden="true">
          {(r.displayName ?? r.handle ?? "?").slice(0, 1).toUpperCase()}
        </div>
        <div>
          <h1>{name}</h1>
          <p className="muted">@{r.handle}</p>
          <p className="badges">
            {r.verified.email ? <span className="chip ok">Email verified</span> : null}
            {r.verified.phone ? <span className="chip ok">Phone verified</span> : null}
          </p>
        </div>
      </section>
      {sent ? null : (
        <section className="card prices" aria-labelledby="prices-h">
          <h2 id="prices-h">Price to message {name}</h2>
          {r.quote ? (
            <dl className="price-table">
              <div>
                <dt>Price for you</dt>
                <dd>
                  <Usdc value={r.quote.price} />
                </dd>
              </div>
              <div>
                <dt>Fee</dt>
                <dd>
                  <Usdc value={r.quote.fee} />
                </dd>
              </div>
              <div className="total">
                <dt>Total</dt>
                <dd>
                  <Usdc value={r.quote.total} />
                </dd>
              </div>
            </dl>
          ) : (
            <dl className="price-table">
              <div>
                <dt>First message</dt>
                <dd>
                  <Usdc value={r.pricing.firstContactPrice} />
                </dd>
              </div>
              <div>
                <dt>After that</dt>
                <dd>
                  <Usdc value={r.pricing.defaultPrice} />
                </dd>
              </div>
            </dl>
          )}
          {!r.quote && !self ? <p className="hint">Plus a small platform fee, shown before you pay.</p> : null}
          {onReply ? (
            <p className="hint">
              Paid on reply: the price is held and goes to {name} only if they reply within {r.pricing.replyWindowHours}{" "}
              hours. Otherwise it's refunded to you.
            </p>
          ) : null}
        </section>
      )}
      {self ? (
        <Note>
          This is your public page. Share its address —{" "}
          <strong>
            {location.origin}/@{r.handle}
          </strong>{" "}
          — so people can pay to message you. <Link href="/settings">Change your prices</Link>.
        </Note>
      ) : (
        <Compose
          target={{ kind: "send", to: r.handle ?? r.id }}
          name={`@${r.handle}`}
          quote={r.quote}
          pricing={r.pricing}
          refetchQuote={() => recipient.refetch()}
          draftKey={`pi:draft:${r.id}`}
          onReceipt={(receipt) => setSent(receipt !== null)}
        />
      )}
    </div>
  );
}
