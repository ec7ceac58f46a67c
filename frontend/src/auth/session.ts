// The browser session. The access token lives in this module's memory only; the
// refresh token is an HttpOnly cookie the page can never read (worker/auth/
// cookie-session.ts). A reload restores the session with one cookie refresh.
import { useSyncExternalStore } from "react";
import type { Schemas } from "../api/types";

export type SessionUser = Schemas["User"];
export type SessionState =
  | { status: "loading"; user: null }
  | { status: "signed-out"; user: null }
  | { status: "signed-in"; user: SessionUser };

/** Every sign-in and refresh asks for a cookie session with this header. */
export const COOKIE_SESSION = { "X-Session": "cookie" } as const;

let accessToken: string | null = null;
let state: SessionState = { status: "loading", user: null };
const listeners = new Set<() => void>();

function set(next: SessionState) {
  state = next;
  for (const l of listeners) l();
}

export const getAccessToken = () => accessToken;
export const getSession = () => state;

/** Called with any sign-in answer ({accessToken, user}). */
export function signedIn(s: { accessToken: string; user: SessionUser }) {
  accessToken = s.accessToken;
  set({ status: "signed-in", user: s.user });
}

export function updateUser(user: SessionUser) {
  if (state.status === "signed-in") set({ status: "signed-in", user });
}

export function signedOut() {
  accessToken = null;
  set({ status: "signed-out", user: null });
}

let refreshing: Promise<boolean> | null = null;

/** Trades the refresh cookie for a new access token (one request at a time). */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const res = await fetch("/v1/auth/refresh", {
        method: "POST",
        headers: { ...COOKIE_SESSION, "content-type": "application/json" },
        body: "{}",
        credentials: "same-origin",
      });
      if (res.status === 401 || res.status === 403) {
        signedOut();
        return false;
      }
      if (!res.ok) throw new Error(`refresh ${res.status}`);
      signedIn(await res.json());
      return true;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** First load: a refresh cookie, if any, becomes a session. Offline leaves us signed out. */
export async function restore(): Promise<void> {
  try {
    await refresh();
  } catch {
    if (state.status === "loading") signedOut();
  }
}

export function useSession(): SessionState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}
