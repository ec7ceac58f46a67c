// Every sign-in method the deployment offers, in one panel: on /signin and inline
// on a profile page (where the visitor's draft stays on screen the whole time).
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { providersQuery } from "../api/queries";
import { registerPasskey, signInWithPasskey } from "../auth/passkey";
import type { SessionUser } from "../auth/session";
import { useWallets, type WalletInfo } from "../auth/wallets";
import { CodeSignIn } from "./CodeSignIn";
import { ErrorNote, Loading } from "./ui";

/** Where to come back to after a redirect-based sign-in (OAuth). Not a secret. */
export const RETURN_KEY = "pi:return-to";

const OAUTH_NAMES: Record<string, string> = { google: "Google", github: "GitHub" };

export function SignInPanel({
  onSignedIn,
  heading = "Sign in",
}: {
  onSignedIn: (user: SessionUser, created: boolean) => void;
  heading?: string;
}) {
  const providers = useQuery(providersQuery);
  const wallets = useWallets();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function run(name: string, fn: () => Promise<SessionUser>, created = false) {
    setBusy(name);
    setError(null);
    try {
      onSignedIn(await fn(), created);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  async function wallet(w: WalletInfo) {
    await run(`wallet:${w.uuid}`, async () => {
      const { signInWithWallet } = await import("../auth/wallet-sign-in");
      return signInWithWallet(w.provider);
    });
  }

  const methods = providers.data?.methods ?? [];
  const oauth = methods.filter((m) => m.startsWith("oauth:")).map((m) => m.slice(6));
  const codes = methods
    .filter((m) => m === "code:email" || m === "code:phone")
    .map((m) => m.slice(5) as "email" | "phone");

  return (
    <section className="card signin" aria-labelledby="signin-heading">
      <h2 id="signin-heading">{heading}</h2>
      {providers.isPending ? <Loading label="Loading sign-in methods…" /> : null}
      {providers.isError ? <ErrorNote error={providers.error} retry={() => providers.refetch()} /> : null}
      <div className="stack">
        <button type="button" disabled={busy !== null} onClick={() => run("passkey", signInWithPasskey)}>
          {busy === "passkey" ? "Waiting for your passkey…" : "Sign in with a passkey"}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={busy !== null}
          onClick={() => run("register", registerPasskey, true)}
        >
          {busy === "register" ? "Creating your passkey…" : "Create an account with a passkey"}
        </button>
        {wallets.map((w) => (
          <button key={w.uuid} type="button" className="secondary" disabled={busy !== null} onClick={() => wallet(w)}>
            {busy === `wallet:${w.uuid}` ? `Check ${w.name}…` : `Continue with ${w.name}`}
          </button>
        ))}
        {wallets.length === 0 ? (
          <p className="hint">No browser wallet found. Install one to sign in with Ethereum.</p>
        ) : null}
        {oauth.map((p) => (
          <a
            key={p}
            className="button secondary"
            href={`/v1/auth/oauth/${p}/start`}
            onClick={() => sessionStorage.setItem(RETURN_KEY, location.pathname + location.search)}
          >
            Continue with {OAUTH_NAMES[p] ?? p}
          </a>
        ))}
      </div>
      {error ? <ErrorNote error={error} /> : null}
      {codes.length > 0 ? (
        <details className="more-methods">
          <summary>Use an email or phone code instead</summary>
          <CodeSignIn channels={codes} onSignedIn={onSignedIn} />
        </details>
      ) : null}
    </section>
  );
}
