// /signin (every method) and /signed-in (the OAuth return: trade the one-time code).
import { useEffect, useRef, useState } from "react";
import { Redirect, useLocation, useSearch } from "wouter";
import { api, call } from "../api/client";
import { COOKIE_SESSION, type SessionUser, signedIn, signedOut, useSession } from "../auth/session";
import { RETURN_KEY, SignInPanel } from "../components/SignInPanel";
import { ErrorNote, Loading, PageHeader } from "../components/ui";

/** Only same-site paths: `next` must never send the user to another origin. */
function safeNext(next: string | null): string | null {
  return next && /^\/(?!\/)/.test(next) ? next : null;
}

function destination(user: SessionUser, next: string | null) {
  // Someone who signed in to write to a profile goes straight back to it; a handle can wait.
  if (next?.startsWith("/@")) return next;
  if (!user.handle) return `/onboarding${next ? `?next=${encodeURIComponent(next)}` : ""}`;
  return next ?? "/inbox";
}

export function SignIn() {
  const session = useSession();
  const next = safeNext(new URLSearchParams(useSearch()).get("next"));
  const [, navigate] = useLocation();
  if (session.status === "signed-in") return <Redirect to={destination(session.user, next)} replace />;
  return (
    <div className="narrow">
      <PageHeader title="Sign in to Paid Inbox">
        <p className="lede">New here? Create an account with a passkey or your wallet — it takes a few seconds.</p>
      </PageHeader>
      {session.status === "loading" ? (
        <Loading />
      ) : (
        <SignInPanel
          heading="Choose how to sign in"
          onSignedIn={(u) => navigate(destination(u, next), { replace: true })}
        />
      )}
    </div>
  );
}

export function SignedIn() {
  const code = new URLSearchParams(useSearch()).get("code");
  const [, navigate] = useLocation();
  const [error, setError] = useState<unknown>(null);
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    if (!code) {
      signedOut();
      setError(new Error("This sign-in link has no code. Start again."));
      return;
    }
    call(api.POST("/v1/auth/oauth/exchange", { body: { code }, headers: COOKIE_SESSION }))
      .then((s) => {
        signedIn(s);
        const back = safeNext(sessionStorage.getItem(RETURN_KEY));
        sessionStorage.removeItem(RETURN_KEY);
        navigate(destination(s.user, back), { replace: true });
      })
      .catch((err) => {
        signedOut();
        setError(err);
      });
  }, [code, navigate]);
  return (
    <div className="narrow">
      <PageHeader title="Signing you in" />
      {error ? (
        <>
          <ErrorNote error={error} />
          <SignInPanel heading="Try again" onSignedIn={(u) => navigate(destination(u, null), { replace: true })} />
        </>
      ) : (
        <Loading label="Finishing sign-in…" />
      )}
    </div>
  );
}
