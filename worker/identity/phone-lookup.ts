// Discovery by phone: the user id behind a verified, discoverable E.164 number.
// Unknown, unverified and not-discoverable must all look the same to the caller
// (null), and the lookup goes through the blind index only: the number is never
// decrypted, stored or logged here.
import { and, eq, inArray } from "drizzle-orm";
import { db } from "../db/client";
import { userContacts, users } from "../db/schema";
import { blindIndexes, normalizePhone } from "./pii";

export async function findDiscoverableUserIdByPhone(env: Env, e164: string): Promise<string | null> {
  const phone = normalizePhone(e164);
  if (!phone) return null;
  const indexes = await blindIndexes(env, "phone", phone);
  const [row] = await db(env)
    .select({ id: users.id })
    .from(userContacts)
    .innerJoin(users, eq(users.id, userContacts.userId))
    .where(
      and(
        eq(userContacts.channel, "phone"),
        inArray(userContacts.blindIndex, indexes),
        eq(users.phoneVerified, true),
        eq(users.discoverableByPhone, true),
      ),
    )
    .limit(1);
  return row?.id ?? null;
}
