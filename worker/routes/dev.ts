// Development-only tools (mounted at /v1/dev); every route answers 404 unless
// ENVIRONMENT=development and the request is to a loopback host (http/dev-only.ts).
import { createRoute, z } from "@hono/zod-openapi";
import { desc, eq } from "drizzle-orm";
import { db } from "../db/client";
import { devOutbox } from "../db/schema";
import { devToolsEnabled } from "../http/dev-only";
import { notFound } from "../http/errors";
import { createRouter, errors, jsonResponse } from "../http/router";
import { normalizeEmail, normalizePhone } from "../identity/pii";

const outboxRoute = createRoute({
  method: "get",
  path: "/outbox",
  tags: ["Development"],
  summary: 'What the dev OTP provider "sent" (newest first; development only)',
  request: { query: z.object({ to: z.string().max(320).optional() }) },
  responses: {
    200: jsonResponse(
      z.object({
        items: z.array(z.object({ to: z.string(), channel: z.string(), text: z.string(), createdAt: z.string() })),
      }),
      "Messages",
    ),
    ...errors(404),
  },
});

export const devRoutes = createRouter().openapi(outboxRoute, async (c) => {
  if (!devToolsEnabled(c.env, c.req.url)) throw notFound();
  let to = c.req.valid("query").to;
  // An unencoded "+" in a query string arrives as a space.
  if (to?.startsWith(" ")) to = `+${to.slice(1)}`;
  if (to !== undefined) to = normalizePhone(to) ?? normalizeEmail(to) ?? to;
  const rows = await db(c.env)
    .select()
    .from(devOutbox)
    .where(to === undefined ? undefined : eq(devOutbox.to, to))
    .orderBy(desc(devOutbox.id))
    .limit(100);
  return c.json(
    {
      items: rows.map((r) => ({
        to: r.to,
        channel: r.channel,
        text: r.text,
        createdAt: new Date(r.createdAt).toISOString(),
      })),
    },
    200,
  );
});
