// The frame around every screen. Signed in, it fetches /v1/me and the first
// inbox page at the same time (no waterfall) and shows the unread count.
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useEffect, useRef } from "react";
import { Link, useLocation } from "wouter";
import { api } from "../api/client";
import { inboxQuery, useMe } from "../api/queries";
import { signedOut, useSession } from "../auth/session";
import { Usdc } from "./ui";

function NavLink({ href, children }: { href: string; children: ReactNode }) {
  const [location] = useLocation();
  const current = location === href || location.startsWith(`${href}/`);
  return (
    <Link href={href} aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}

/** After a client-side navigation, focus moves to the new content (as a page load would). */
function useFocusOnNavigate() {
  const [location] = useLocation();
  const first = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once per navigation, by design
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("main")?.focus({ preventScroll: false });
  }, [location]);
}

export function Shell({ children }: { children: ReactNode }) {
  const session = useSession();
  const signedIn = session.status === "signed-in";
  useFocusOnNavigate();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href={signedIn ? "/inbox" : "/"} className="brand">
          <span aria-hidden="true" className="logo" />
          Paid Inbox
        </Link>
        {signedIn ? <SignedInNav /> : session.status === "signed-out" ? <Link href="/signin">Sign in</Link> : null}
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function SignedInNav() {
  const qc = useQueryClient();
  const me = useMe();
  const inbox = useInfiniteQuery(inboxQuery);
  const [, navigate] = useLocation();
  // The server's count covers the whole inbox, not only the pages loaded here.
  const unread = inbox.data?.pages[0]?.unread ?? 0;
  const handle = me.data?.user.handle;

  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Paid Inbox` : document.title.replace(/^\(\d+\) /, "");
  }, [unread]);

  async function signOut() {
    // The server revokes this session's refresh family and clears its cookie.
    await api.POST("/v1/auth/logout", { body: {}, headers: { "X-Session": "cookie" } }).catch(() => {});
    signedOut();
    qc.clear();
    navigate("/");
  }

  return (
    <nav aria-label="Main" className="nav">
      <NavLink href="/inbox">
        Inbox
        {unread > 0 ? (
          <span className="badge">
            <span data-testid="unread-count">{unread}</span>
            <span className="sr-only"> unread</span>
          </span>
        ) : null}
      </NavLink>
      <NavLink href="/outbox">Sent</NavLink>
      <NavLink href="/money">
        Money
        {me.data ? (
          <span className="nav-balance">
            {" "}
            <Usdc value={me.data.balance} />
          </span>
        ) : null}
      </NavLink>
      <NavLink href="/settings">Settings</NavLink>
      {handle ? <NavLink href={`/@${handle}`}>@{handle}</NavLink> : null}
      <button type="button" className="link" onClick={signOut}>
        Sign out
      </button>
    </nav>
  );
}
