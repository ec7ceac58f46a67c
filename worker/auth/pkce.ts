// OAuth 2.0 authorization code with PKCE (S256), the part social sign-in
// (worker/identity/oauth.ts) and X account linking (worker/notify/x-link.ts)
// share: a random `state` that is the id of a single-use auth_challenges row
// holding the verifier and redirect URI server-side, and the claim of that row
// when the provider sends the user back (a conditional UPDATE: at most once).
import { and, eq, isNull } from "drizzle-orm";
import { db } from "../db/client";
import { authChallenges } from "../db/schema";
import { base64url, randomToken } from "./crypto";

type PkceKind = "oauth" | "x_link";

/** What the state row carries besides the caller's own fields. */
export interface PkcePayload {
  verifier: string;
  redirectUri: string;
}

/** Stores a single-use state (bound to `subject`) and answers the provider's authorize URL and the state. */
export async function startPkce(
  env: Env,
  o: {
    kind: PkceKind;
    subject: string | null;
    /** Stored with the verifier and redirect URI (e.g. which provider). */
    extra?: Record<string, string>;
    ttlMs: number;
    authUrl: string;
    clientId: string;
    redirectUri: string;
    scope: string;
  },
): Promise<{ url: string; state: string }> {
  const state = randomToken(32);
  const verifier = randomToken(48);
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
  );
  await db(env)
    .insert(authChallenges)
    .values({
      id: state,
      kind: o.kind,
      subject: o.subject,
      payload: JSON.stringify({ ...o.extra, verifier, redirectUri: o.redirectUri }),
      expiresAt: Date.now() + o.ttlMs,
    });
  const url = new URL(o.authUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", o.clientId);
  url.searchParams.set("redirect_uri", o.redirectUri);
  url.searchParams.set("scope", o.scope);
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", challenge);
  url.searchParams.set("code_challenge_method", "S256");
  return { url: url.toString(), state };
}

/** Claims a state once: its subject and payload, or null when unknown, of another kind, used or expired. */
export async function claimPkceState<P extends PkcePayload>(
  env: Env,
  kind: PkceKind,
  state: string,
): Promise<{ subject: string | null; payload: P } | null> {
  const now = Date.now();
  const [claimed] = await db(env)
    .update(authChallenges)
    .set({ usedAt: now })
    .where(and(eq(authChallenges.id, state), eq(authChallenges.kind, kind), isNull(authChallenges.usedAt)))
    .returning();
  if (!claimed || claimed.expiresAt <= now || !claimed.payload) return null;
  return { subject: claimed.subject, payload: JSON.parse(claimed.payload) as P };
}
