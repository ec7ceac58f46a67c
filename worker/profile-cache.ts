// A recipient's public profile and price for page views (GET /v1/recipients/…,
// the /@handle page), without touching the recipient's Account: one Account
// serialises one user (~1,000 requests/s), and a viral profile must not send
// every view there.
//
//   Cache API (per colo, PROFILE_CACHE_SECONDS) → D1 users row (pricing copy)
//     → the Account, once per user ever (a row from before the copy existed)
//
// The Account stays the source of truth for the price actually charged: a send
// is priced by the recipient's Account, and `maxPrice` protects the sender
// from a copy that is a few seconds stale. Changing the price or handle writes
// the D1 copy and evicts the cache entries here; other colos expire theirs
// within PROFILE_CACHE_SECONDS.
import { and, eq, isNull, lt, or } from "drizzle-orm";
import { db } from "./db/client";
import { users } from "./db/schema";
import type { PricingJson } from "./domain/pricing";
import { findRecipient } from "./recipients";
import type { UserRow } from "./users";

export interface PublicProfile {
  id: string;
  handle: string | null;
  displayName: string | null;
  bio: string | null;
  verified: { email: boolean; phone: boolean };
  pricing: PricingJson;
}

/** How long a colo serves a profile from its cache before asking D1 again. */
export const PROFILE_CACHE_SECONDS = 30;

const cacheUrl = (key: string) => `https://profile-cache.paid-inbox.invalid/v1/${encodeURIComponent(key)}`;

/** Cache key of a selector: a handle (lowercased, without @) or a user id. */
function cacheKey(selector: string): string {
  const s = selector.trim();
  if (s.startsWith("u_")) return s;
  return `@${s.replace(/^@/, "").toLowerCase()}`;
}

/** Loads in flight in this isolate: concurrent misses for one profile share one D1 read. */
const loading = new Map<string, Promise<PublicProfile | null>>();

export async function publicProfile(env: Env, selector: string): Promise<PublicProfile | null> {
  const key = cacheKey(selector);
  const cache = await openCache();
  if (cache) {
    const hit = await cache.match(cacheUrl(key));
    if (hit) return hit.json<PublicProfile>();
  }
  let p = loading.get(key);
  if (!p) {
    p = load(env, selector, key, cache).finally(() => loading.delete(key));
    loading.set(key, p);
  }
  return p;
}

async function load(env: Env, selector: string, key: string, cache: Cache | null) {
  const user = await findRecipient(env, selector);
  if (!user) return null;
  const profile = await profileOf(env, user);
  if (cache) {
    await cache.put(
      cacheUrl(key),
      new Response(JSON.stringify(profile), {
        headers: { "content-type": "application/json", "cache-control": `max-age=${PROFILE_CACHE_SECONDS}` },
      }),
    );
  }
  return profile;
}

/** A user's public profile from their D1 row (uncached; phone lookups use this directly). */
export async function profileOf(env: Env, user: UserRow): Promise<PublicProfile> {
  return {
    id: user.id,
    handle: user.handle,
    displayName: user.displayName,
    bio: user.bio,
    verified: { email: user.emailVerified, phone: user.phoneVerified },
    pricing: await pricingCopy(env, user),
  };
}

/** The D1 copy of the price; a user whose row has none yet is asked once, and the copy kept. */
async function pricingCopy(env: Env, user: UserRow): Promise<PricingJson> {
  if (user.pricing) return JSON.parse(user.pricing) as PricingJson;
  const { pricing } = await env.ACCOUNT.getByName(user.id).quoteFor(null);
  await db(env)
    .update(users)
    .set({ pricing: JSON.stringify(pricing), pricingVersion: 0 })
    .where(and(eq(users.id, user.id), isNull(users.pricing)));
  return pricing;
}

/**
 * Stores the Account's new pricing in D1 (unless a newer version is already
 * there: concurrent updates may land out of order) and evicts cached profiles.
 */
export async function publishPricing(env: Env, userId: string, pricing: PricingJson, version: number): Promise<void> {
  const [row] = await db(env)
    .update(users)
    .set({ pricing: JSON.stringify(pricing), pricingVersion: version })
    .where(and(eq(users.id, userId), or(isNull(users.pricingVersion), lt(users.pricingVersion, version))))
    .returning({ handle: users.handle });
  await evictProfile(userId, row?.handle ?? null);
}

/** Drops cached profiles for a user under every key it may be cached by (call after a handle or price change). */
export async function evictProfile(userId: string, ...handles: (string | null)[]): Promise<void> {
  const cache = await openCache();
  if (!cache) return;
  const keys = [userId, ...handles.filter((h): h is string => !!h).map((h) => `@${h.toLowerCase()}`)];
  await Promise.all(keys.map((k) => cache.delete(cacheUrl(k))));
}

async function openCache(): Promise<Cache | null> {
  // The Cache API is absent in a few hosts (e.g. some test runners); the D1 copy still spares the Account.
  return typeof caches === "undefined" ? null : caches.open("profiles");
}
