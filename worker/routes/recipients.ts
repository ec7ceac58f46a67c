import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, or, sql } from "drizzle-orm";
import { db } from "../db/client";
import { users } from "../db/schema";
import { ApiError, notFound } from "../http/errors";
import { createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { countPhoneLookup, limitLookups } from "../identity/rate-limit";
import { optionalUser } from "../middleware/auth";
import { findRecipient, findRecipientByPhone } from "../recipients";
import type { UserRow } from "../users";
import { PricingSchema } from "./me";

const tag = ["Discovery"];

const Recipient = z
  .object({
    id: z.string(),
    handle: z.string().nullable(),
    displayName: z.string().nullable(),
    verified: z.object({ email: z.boolean(), phone: z.boolean() }),
    pricing: PricingSchema,
    quote: z
      .object({
        price: z.string(),
        fee: z.string(),
        total: z.string(),
        reason: z.enum(["first_contact", "default", "return_discount", "allowlist"]),
      })
      .optional(),
  })
  .openapi("Recipient");

const getRecipient = createRoute({
  method: "get",
  path: "/recipients/{selector}",
  tags: tag,
  summary: "Find a recipient by @handle, handle or user id; signed in, with your quote",
  description: "Phone numbers are looked up with POST /v1/recipients/lookup (never in a URL).",
  // Limited per IP and per signed-in user, so the directory cannot be enumerated.
  middleware: [optionalUser, limitLookups] as const,
  request: { params: z.object({ selector: z.string().min(1).max(64) }) },
  responses: { 200: jsonResponse(Recipient, "The recipient"), ...errors(400, 401, 404, 429) },
});

const lookupByPhone = createRoute({
  method: "post",
  path: "/recipients/lookup",
  tags: tag,
  summary: "Find a recipient by E.164 phone number (in the body, so it never reaches request logs)",
  description:
    "Unknown, unverified and not-discoverable numbers are the same 404. Limited per IP and per signed-in " +
    "user, plus a daily cap on phone lookups per user.",
  middleware: [optionalUser, limitLookups] as const,
  request: { body: jsonBody(z.object({ phone: z.string().min(1).max(32) }).strict()) },
  responses: { 200: jsonResponse(Recipient, "The recipient"), ...errors(400, 401, 404, 429) },
});

const search = createRoute({
  method: "get",
  path: "/search",
  tags: tag,
  summary: "Discoverable profiles whose handle or display name matches",
  request: { query: z.object({ q: z.string().trim().min(1).max(64) }) },
  responses: {
    200: jsonResponse(
      z.object({
        results: z.array(
          z.object({ id: z.string(), handle: z.string().nullable(), displayName: z.string().nullable() }),
        ),
      }),
      "Matches (at most 20)",
    ),
    ...errors(400),
  },
});

/** The public profile, with the caller's quote when signed in. */
async function recipientJson(env: Env, user: UserRow | undefined, senderId: string | undefined) {
  if (!user) throw notFound("recipient_not_found", "No such recipient.");
  const { pricing, quote } = await env.ACCOUNT.getByName(user.id).quoteFor(
    senderId && senderId !== user.id ? senderId : null,
  );
  return {
    id: user.id,
    handle: user.handle,
    displayName: user.displayName,
    verified: { email: user.emailVerified, phone: user.phoneVerified },
    pricing,
    ...(quote
      ? { quote: { price: `${quote.price}`, fee: `${quote.fee}`, total: `${quote.total}`, reason: quote.reason } }
      : {}),
  };
}

export const recipientRoutes = createRouter()
  .openapi(lookupByPhone, async (c) => {
    await countPhoneLookup(c.env, c.get("userId"));
    const user = await findRecipientByPhone(c.env, c.req.valid("json").phone);
    return c.json(await recipientJson(c.env, user, c.get("userId")), 200);
  })
  .openapi(getRecipient, async (c) => {
    const { selector } = c.req.valid("param");
    if (selector.trim().startsWith("+")) {
      throw new ApiError(400, "phone_in_url", "Look phone numbers up with POST /v1/recipients/lookup {phone}.");
    }
    const user = await findRecipient(c.env, selector);
    return c.json(await recipientJson(c.env, user, c.get("userId")), 200);
  })
  .openapi(search, async (c) => {
    const q = c.req.valid("query").q.replace(/^@/, "").toLowerCase();
    // Escape LIKE wildcards so `_` and `%` match themselves.
    const pattern = `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    const rows = await db(c.env)
      .select({ id: users.id, handle: users.handle, displayName: users.displayName })
      .from(users)
      .where(
        and(
          eq(users.discoverableInSearch, true),
          or(
            sql`${users.handle} LIKE ${pattern} ESCAPE '\\'`,
            sql`lower(${users.displayName}) LIKE ${pattern} ESCAPE '\\'`,
          ),
        ),
      )
      .limit(20);
    return c.json({ results: rows.filter((r) => r.handle !== null) }, 200);
  });
