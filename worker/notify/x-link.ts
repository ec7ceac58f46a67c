// Linking the recipient's X account for DM notices: OAuth 2.0 authorization
// code with PKCE (S256), like social sign-in (worker/identity/oauth.ts). The
// state is a single-use auth_challenges row (kind "x_link") bound to the user
// and carrying the PKCE verifier and the consent version; only X's stable user
// id is kept (sealed), no profile data.
import { claimPkceState, type PkcePayload, startPkce } from "../auth/pkce";
import { completeConnection, getChannel } from "./channels";
import type { NotifyConfig } from "./config";

export const X_STATE_TTL_MS = 10 * 60 * 1000;

type X = NonNullable<NotifyConfig["x"]>;

export async function startXLink(
  env: Env,
  x: X,
  userId: string,
  redirectUri: string,
): Promise<{ url: string; state: string }> {
  return startPkce(env, {
    kind: "x_link",
    subject: userId,
    ttlMs: X_STATE_TTL_MS,
    authUrl: x.authUrl,
    clientId: x.clientId,
    redirectUri,
    scope: "users.read tweet.read dm.read offline.access",
  });
}

export type XLinkOutcome =
  | { ok: true; userId: string }
  | { ok: false; reason: "bad_state" | "code_rejected" | "provider_error" };

export async function completeXLink(env: Env, x: X, code: string, state: string): Promise<XLinkOutcome> {
  const claimed = await claimPkceState<PkcePayload>(env, "x_link", state);
  if (!claimed?.subject) return { ok: false, reason: "bad_state" };
  const { payload } = claimed;
  const userId = claimed.subject;
  const row = await getChannel(env, userId, "x");
  if (row?.status !== "pending") return { ok: false, reason: "bad_state" };

  let xUserId: string | null = null;
  try {
    const tokenRes = await fetch(x.tokenUrl, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${btoa(`${x.clientId}:${x.clientSecret}`)}`,
        accept: "application/json",
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: payload.redirectUri,
        client_id: x.clientId,
        code_verifier: payload.verifier,
      }),
    });
    const token = (await tokenRes.json().catch(() => null)) as { access_token?: unknown } | null;
    if (!tokenRes.ok || typeof token?.access_token !== "string") return { ok: false, reason: "code_rejected" };
    const meRes = await fetch(`${x.apiUrl}/2/users/me`, { headers: { authorization: `Bearer ${token.access_token}` } });
    const me = (await meRes.json().catch(() => null)) as { data?: { id?: unknown } } | null;
    if (meRes.ok && typeof me?.data?.id === "string" && /^\d{1,25}$/.test(me.data.id)) xUserId = me.data.id;
  } catch {
    return { ok: false, reason: "provider_error" };
  }
  if (!xUserId) return { ok: false, reason: "provider_error" };
  // The user's X token is not kept: DMs are sent by the app's own account.
  await completeConnection(env, row, { xUserId }, xUserId);
  return { ok: true, userId };
}
