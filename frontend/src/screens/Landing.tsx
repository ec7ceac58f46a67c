// Home: what this is, and a way in. Signed-in people go straight to their inbox.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, Redirect } from "wouter";
import { api, call } from "../api/client";
import { useSession } from "../auth/session";
import { ErrorNote, Field } from "../components/ui";

export function Landing() {
  const session = useSession();
  useEffect(() => {
    document.title = "Paid Inbox — get paid to read your messages";
  }, []);
  if (session.status === "signed-in") return <Redirect to={session.user.handle ? "/inbox" : "/onboarding"} replace />;
  return (
    <div className="landing">
      <section className="hero">
        <h1>Put a price on your attention.</h1>
        <p className="lede">
          People pay you in USDC to send you a message. You set the price, share one link, and read paid messages here —
          or get paid only when you reply.
        </p>
        <p className="actions">
          <Link href="/signin" className="button">
            Get your link
          </Link>
          <Link href="/signin" className="button secondary">
            Sign in
          </Link>
        </p>
      </section>
      <ul className="features" aria-label="How it works">
        <li>
          <h2>Clear prices</h2>
          <p>Senders see exactly what they pay — price and fee — before they send. It never changes under them.</p>
        </li>
        <li>
          <h2>Paid on reply</h2>
          <p>Hold payments until you answer. No reply in time, and the sender gets their money back.</p>
        </li>
        <li>
          <h2>Your inbox, your rules</h2>
          <p>Discounts for people you know, a block list for people you don't, and passkey or wallet sign-in.</p>
        </li>
      </ul>
      <FindSomeone />
    </div>
  );
}

function FindSomeone() {
  const [q, setQ] = useState("");
  const [query, setQuery] = useState("");
  const results = useQuery({
    queryKey: ["search", query],
    queryFn: () => call(api.GET("/v1/search", { params: { query: { q: query } } })),
    enabled: query.length > 0,
  });
  return (
    <section className="card" aria-labelledby="find-h">
      <h2 id="find-h">Message someone</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(q.trim());
        }}
      >
        <Field label="Handle or name">
          {(p) => <input {...p} value={q} onChange={(e) => setQ(e.target.value)} placeholder="@alice" />}
        </Field>
        <button type="submit" className="secondary" disabled={!q.trim()}>
          Search
        </button>
      </form>
      {results.isError ? <ErrorNote error={results.error} /> : null}
      {results.data ? (
        results.data.results.length === 0 ? (
          <p>No one matches “{query}”.</p>
        ) : (
          <ul className="list">
            {results.data.results.map((r) => (
              <li key={r.id}>
                <Link href={`/@${r.handle}`}>
                  {r.displayName ?? r.handle} <span className="muted">@{r.handle}</span>
                </Link>
              </li>
            ))}
          </ul>
        )
      ) : null}
    </section>
  );
}
