// Finding a recipient: by @handle, handle or user id; by E.164 phone (when the
// owner allows it) only through findRecipientByPhone, whose callers take the
// number from a request body (never a URL: paths and queries reach request logs).
import { eq } from "drizzle-orm";
import { db } from "./db/client";
import { users } from "./db/schema";
import { findDiscoverableUserIdByPhone } from "./identity/phone-lookup";
import { normalizePhone } from "./identity/pii";
import { HANDLE_RE, type UserRow } from "./users";

export async function findRecipientByPhone(env: Env, input: string): Promise<UserRow | undefined> {
  // Same normalization as verification, so a number is found however it was typed.
  const phone = normalizePhone(input);
  if (!phone) return undefined;
  const id = await findDiscoverableUserIdByPhone(env, phone);
  return id ? db(env).query.users.findFirst({ where: eq(users.id, id) }) : undefined;
}

export async function findRecipient(env: Env, selector: string): Promise<UserRow | undefined> {
  const s = selector.trim();
  if (s.startsWith("u_")) return db(env).query.users.findFirst({ where: eq(users.id, s) });
  const handle = normalizeSelector(s);
  if (!handle) return undefined;
  return db(env).query.users.findFirst({ where: eq(users.handle, handle) });
}

const normalizeSelector = (s: string) => {
  const h = s.replace(/^@/, "").toLowerCase();
  return HANDLE_RE.test(h) ? h : null;
};

/**
 * Send-path lookup with a per-isolate cache, so a send does not wait on D1.
 * A cached handle may be stale (renamed, then taken by someone else), so the
 * answer carries `expectHandle`: the recipient's Account refuses the message
 * when its own handle differs, and the caller retries with `fresh = true`.
 * User ids never change hands, so they are cached without a check.
 */
export interface SendTarget {
  id: string;
  expectHandle: string | null;
}

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;
const cache = new Map<string, { id: string; at: number }>();

export async function resolveSendTarget(env: Env, to: string, fresh = false): Promise<SendTarget | null> {
  const s = to.trim();
  const key = s.startsWith("u_") ? s : normalizeSelector(s);
  if (!key) return null;
  const hit = fresh ? undefined : cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_TTL_MS) {
    return { id: hit.id, expectHandle: key.startsWith("u_") ? null : key };
  }
  const user = await findRecipient(env, key);
  if (!user) {
    cache.delete(key);
    return null;
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, { id: user.id, at: Date.now() });
  return { id: user.id, expectHandle: null };
}

/** What a `/@handle` link preview shows. Read from D1 (or a profile cache), never the Account. */
export interface PublicProfile {
  handle: string;
  displayName: string | null;
  bio: string | null;
}

export async function publicProfile(env: Env, handle: string): Promise<PublicProfile | null> {
  const h = normalizeSelector(handle);
  if (!h) return null;
  const user = await findRecipient(env, h);
  if (!user?.handle) return null;
  return { handle: user.handle, displayName: user.displayName, bio: user.bio };
}
