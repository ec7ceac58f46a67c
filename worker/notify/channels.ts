// A user's notification channels in D1: connect (with recorded consent),
// settings, health, credentials sealed with the PII key, and keeping the
// recipient's Account told whether (and from what price) to emit notify jobs.
import { and, eq, inArray } from "drizzle-orm";
import { db } from "../db/client";
import { channels, userContacts } from "../db/schema";
import type { ChannelName } from "../domain/delivery-job";
import { blindIndex, blindIndexes, contactContext, open, type Sealed, seal } from "../identity/pii";

export type ChannelRow = typeof channels.$inferSelect;

/** What a rail needs to reach the user; sealed as one JSON. */
export interface Credentials {
  chatId?: string;
  phone?: string;
  xUserId?: string;
  url?: string;
  secret?: string;
}

export const channelContext = (userId: string, channel: ChannelName) => `channel:${userId}:${channel}`;

export interface ChannelJson {
  channel: ChannelName;
  status: "pending" | "connected" | "revoked";
  consentVersion: string;
  consentAt: string;
  connectedAt: string | null;
  includeBody: boolean;
  minPrice: string;
  health: { lastDeliveredAt: string | null; lastError: string | null; lastErrorAt: string | null };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toChannelJson(r: ChannelRow): ChannelJson {
  return {
    channel: r.channel,
    status: r.status,
    consentVersion: r.consentVersion,
    consentAt: iso(r.consentAt) as string,
    connectedAt: iso(r.connectedAt),
    includeBody: r.includeBody,
    minPrice: r.minPrice,
    health: { lastDeliveredAt: iso(r.lastDeliveredAt), lastError: r.lastError, lastErrorAt: iso(r.lastErrorAt) },
  };
}

export async function listChannels(env: Env, userId: string): Promise<ChannelRow[]> {
  return db(env).select().from(channels).where(eq(channels.userId, userId)).orderBy(channels.channel);
}

export async function getChannel(env: Env, userId: string, channel: ChannelName): Promise<ChannelRow | undefined> {
  return db(env)
    .select()
    .from(channels)
    .where(and(eq(channels.userId, userId), eq(channels.channel, channel)))
    .get();
}

/** The provider-side identity (chat id, X user id) as a blind index: webhooks find the channel without clear ids. */
export function subjectIndex(env: Env, channel: ChannelName, subject: string): Promise<string> {
  return blindIndex(env, channel as never, subject);
}
export function subjectIndexes(env: Env, channel: ChannelName, subject: string): Promise<string[]> {
  return blindIndexes(env, channel as never, subject);
}

export async function openCredentials(env: Env, r: ChannelRow): Promise<Credentials> {
  if (!r.ciphertext || !r.iv || r.keyVersion === null) return {};
  const sealed: Sealed = { ciphertext: r.ciphertext, iv: r.iv, keyVersion: r.keyVersion };
  return JSON.parse(await open(env, sealed, channelContext(r.userId, r.channel)));
}

interface ConnectFields {
  status: "pending" | "connected";
  consentVersion: string;
  credentials?: Credentials;
  subject?: string;
  connectTokenHash?: string;
  connectExpiresAt?: number;
}

/**
 * Connects (or re-connects) a channel: consent version and time recorded, old
 * credentials replaced. Settings (includeBody, minPrice) survive a reconnect.
 */
export async function saveConnection(env: Env, userId: string, channel: ChannelName, f: ConnectFields) {
  const now = Date.now();
  const sealed = f.credentials ? await seal(env, JSON.stringify(f.credentials), channelContext(userId, channel)) : null;
  const values = {
    status: f.status,
    consentVersion: f.consentVersion,
    consentAt: now,
    connectedAt: f.status === "connected" ? now : null,
    ciphertext: sealed?.ciphertext ?? null,
    iv: sealed?.iv ?? null,
    keyVersion: sealed?.keyVersion ?? null,
    subjectIndex: f.subject ? await subjectIndex(env, channel, f.subject) : null,
    connectTokenHash: f.connectTokenHash ?? null,
    connectExpiresAt: f.connectExpiresAt ?? null,
    lastError: null,
    lastErrorAt: null,
    updatedAt: now,
  };
  await db(env)
    .insert(channels)
    .values({ userId, channel, ...values })
    .onConflictDoUpdate({ target: [channels.userId, channels.channel], set: values });
  // A reconnect may turn a connected channel back into a pending one.
  await syncNotify(env, userId);
}

/** A pending channel becomes connected (Telegram /start, X callback). */
export async function completeConnection(
  env: Env,
  row: ChannelRow,
  credentials: Credentials,
  subject: string,
): Promise<void> {
  const sealed = await seal(env, JSON.stringify(credentials), channelContext(row.userId, row.channel));
  const now = Date.now();
  await db(env)
    .update(channels)
    .set({
      status: "connected",
      connectedAt: now,
      ciphertext: sealed.ciphertext,
      iv: sealed.iv,
      keyVersion: sealed.keyVersion,
      subjectIndex: await subjectIndex(env, row.channel, subject),
      connectTokenHash: null,
      connectExpiresAt: null,
      updatedAt: now,
    })
    .where(and(eq(channels.userId, row.userId), eq(channels.channel, row.channel)));
  await syncNotify(env, row.userId);
}

/** The user cut the rail off at the provider: status revoked, credentials deleted. */
export async function revokeChannel(env: Env, userId: string, channel: ChannelName, reason: string): Promise<void> {
  const now = Date.now();
  await db(env)
    .update(channels)
    .set({
      status: "revoked",
      ciphertext: null,
      iv: null,
      keyVersion: null,
      subjectIndex: null,
      connectTokenHash: null,
      lastError: reason,
      lastErrorAt: now,
      updatedAt: now,
    })
    .where(and(eq(channels.userId, userId), eq(channels.channel, channel)));
  await syncNotify(env, userId);
}

/** Revokes every channel of a rail bound to this provider-side identity (Telegram /stop, X revoke). */
export async function revokeBySubject(env: Env, channel: ChannelName, subject: string, reason: string) {
  const indexes = await subjectIndexes(env, channel, subject);
  const rows = await db(env)
    .select({ userId: channels.userId })
    .from(channels)
    .where(and(eq(channels.channel, channel), inArray(channels.subjectIndex, indexes)));
  for (const r of rows) await revokeChannel(env, r.userId, channel, reason);
  return rows.length;
}

export async function deleteChannel(env: Env, userId: string, channel: ChannelName): Promise<boolean> {
  const gone = await db(env)
    .delete(channels)
    .where(and(eq(channels.userId, userId), eq(channels.channel, channel)))
    .returning({ channel: channels.channel });
  await syncNotify(env, userId);
  return gone.length > 0;
}

export async function patchChannel(
  env: Env,
  userId: string,
  channel: ChannelName,
  patch: { includeBody?: boolean; minPrice?: string },
): Promise<ChannelRow | undefined> {
  const [row] = await db(env)
    .update(channels)
    .set({ ...patch, updatedAt: Date.now() })
    .where(and(eq(channels.userId, userId), eq(channels.channel, channel)))
    .returning();
  if (row && patch.minPrice !== undefined) await syncNotify(env, userId);
  return row;
}

/** The recipient's Account emits notify jobs only while a channel is connected, from the lowest minPrice. */
export async function syncNotify(env: Env, userId: string): Promise<void> {
  const rows = await db(env)
    .select({ minPrice: channels.minPrice })
    .from(channels)
    .where(and(eq(channels.userId, userId), eq(channels.status, "connected")));
  const min = rows.reduce<bigint | null>(
    (m, r) => (m === null || BigInt(r.minPrice) < m ? BigInt(r.minPrice) : m),
    null,
  );
  await env.ACCOUNT.getByName(userId).setNotify(min === null ? null : `${min}`);
}

/** The user's verified email or phone in clear (for the email and WhatsApp rails), or null. */
export async function verifiedContact(env: Env, userId: string, kind: "email" | "phone"): Promise<string | null> {
  const row = await db(env)
    .select()
    .from(userContacts)
    .where(and(eq(userContacts.userId, userId), eq(userContacts.channel, kind)))
    .get();
  if (!row) return null;
  return open(
    env,
    { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.keyVersion },
    contactContext(userId, kind),
  );
}
