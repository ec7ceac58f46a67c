// Users in D1: creation on first sign-in, the public JSON shape, profile edits.
import { eq } from "drizzle-orm";
import type { Address } from "viem";
import { randomId } from "./auth/crypto";
import { db, isUniqueViolation } from "./db/client";
import { users } from "./db/schema";
import { ApiError } from "./http/errors";
import { bump } from "./observability/counters";

export type UserRow = typeof users.$inferSelect;

export interface UserJson {
  id: string;
  handle: string | null;
  walletAddress: string | null;
  displayName: string | null;
  verified: { email: boolean; phone: boolean };
}

export function toUserJson(u: UserRow): UserJson {
  return {
    id: u.id,
    handle: u.handle,
    walletAddress: u.walletAddress,
    displayName: u.displayName,
    verified: { email: u.emailVerified, phone: u.phoneVerified },
  };
}

export const HANDLE_RE = /^[a-z0-9_]{3,30}$/;
const RESERVED_HANDLES = new Set(["admin", "root", "support", "help", "api", "ops", "system", "paidinbox", "me"]);

/** Lowercases and checks a handle; null if it breaks the rules. */
export function normalizeHandle(input: string): string | null {
  const h = input.trim().replace(/^@/, "").toLowerCase();
  // `u_…` is the shape of a user id: a handle like that could not be told apart from one in `to`.
  return HANDLE_RE.test(h) && !RESERVED_HANDLES.has(h) && !h.startsWith("u_") ? h : null;
}

export async function findUser(env: Env, id: string): Promise<UserRow | undefined> {
  return db(env).query.users.findFirst({ where: eq(users.id, id) });
}

export async function findUserByHandle(env: Env, handle: string): Promise<UserRow | undefined> {
  return db(env).query.users.findFirst({ where: eq(users.handle, handle.toLowerCase()) });
}

/** The user who owns this wallet, created on first sign-in (race-safe via the unique index). */
export async function upsertWalletUser(env: Env, address: Address): Promise<{ user: UserRow; created: boolean }> {
  const inserted = await db(env)
    .insert(users)
    .values({ id: randomId("u"), walletAddress: address })
    .onConflictDoNothing({ target: users.walletAddress })
    .returning();
  if (inserted[0]) {
    bump("signups");
    return { user: inserted[0], created: true };
  }
  const existing = await db(env).query.users.findFirst({ where: eq(users.walletAddress, address) });
  if (!existing) throw new Error("wallet user vanished after conflict");
  return { user: existing, created: false };
}

export interface ProfilePatch {
  handle?: string;
  displayName?: string | null;
  bio?: string | null;
  discoverableByPhone?: boolean;
  discoverableInSearch?: boolean;
}

export async function updateProfile(env: Env, userId: string, patch: ProfilePatch): Promise<UserRow> {
  const set: Partial<typeof users.$inferInsert> = { updatedAt: Date.now() };
  if (patch.handle !== undefined) {
    const handle = normalizeHandle(patch.handle);
    if (!handle) {
      throw new ApiError(400, "invalid_handle", "A handle is 3–30 characters of a–z, 0–9 and _, and not reserved.");
    }
    set.handle = handle;
  }
  if (patch.displayName !== undefined) set.displayName = patch.displayName;
  if (patch.bio !== undefined) set.bio = patch.bio;
  if (patch.discoverableByPhone !== undefined) set.discoverableByPhone = patch.discoverableByPhone;
  if (patch.discoverableInSearch !== undefined) set.discoverableInSearch = patch.discoverableInSearch;
  try {
    const [row] = await db(env).update(users).set(set).where(eq(users.id, userId)).returning();
    if (!row) throw new ApiError(404, "not_found", "User not found.");
    return row;
  } catch (err) {
    if (isUniqueViolation(err, "handle")) throw new ApiError(409, "handle_taken", "That handle is taken.");
    throw err;
  }
}
