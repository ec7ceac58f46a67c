import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, or, sql } from "drizzle-orm";
import { db } from "../db/client";
import { users } from "../db/schema";
import { notFound } from "../http/errors";
import { createRouter, errors, jsonResponse } from "../http/router";
import { limitAnonymousLookups } from "../identity/rate-limit";
import { optionalUser } from "../middleware/auth";
import { publicProfile } from "../profile-cache";
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
  summary: "Find a recipient by @handle, handle or E.164 phone; signed in, with your quote",
  // Anonymous lookups are rate limited per IP so the phone directory cannot be enumerated.
  middleware: [limitAnonymousLookups, optionalUser] as const,
  request: { params: z.object({ selector: z.string().min(1).max(64) }) },
  responses: { 200: jsonResponse(Recipient, "The recipient"), ...errors(401, 404, 429) },
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

export const recipientRoutes = createRouter()
  .openapi(getRecipient, async (c) => {
    const { selector } = c.req.valid("param");
    // Cache → D1 copy: a page view never reaches the recipient's Account.
    const profile = await publicProfile(c.env, selector);
    if (!profile) throw notFound("recipient_not_found", "No such recipient.");
    const viewerId = c.get("userId") ?? null;
    // A signed-in viewer's quote comes from the viewer's own Account.
    const quote =
      viewerId && viewerId !== profile.id
        ? await c.env.ACCOUNT.getByName(viewerId).quoteAsSender(profile.id, profile.pricing)
        : null;
    return c.json(
      {
        ...profile,
        ...(quote
          ? { quote: { price: `${quote.price}`, fee: `${quote.fee}`, total: `${quote.total}`, reason: quote.reason } }
          : {}),
      },
      200,
    );
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
