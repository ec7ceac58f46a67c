import { createRoute, z } from "@hono/zod-openapi";
import { bearerAuth, createRouter, errors, jsonResponse } from "../http/router";
import { requireAdmin } from "../middleware/auth";
import { listDeadLetters, redriveDeadLetters } from "../notify/consumer";
import { ledgerSummary } from "../queues/index-consumer";

const summary = createRoute({
  method: "get",
  path: "/ledger-summary",
  tags: ["Operations"],
  summary: "Money totals summed from the per-Account totals in D1 (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  responses: {
    200: jsonResponse(
      z.object({
        topups: z.string(),
        deposits: z.string(),
        withdrawals: z.string(),
        balances: z.string(),
        held: z.string(),
        fees: z.string(),
        accounts: z.number(),
        conserved: z.boolean(),
      }),
      "Totals",
    ),
    ...errors(401),
  },
});

const DeadLetterSchema = z.object({
  id: z.number(),
  key: z.string(),
  channel: z.string(),
  userId: z.string(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  redrivenAt: z.string().nullable(),
});

const deadLetters = createRoute({
  method: "get",
  path: "/deliveries/dead-letters",
  tags: ["Operations"],
  summary: "Notification deliveries that used up their retries, newest first (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  responses: {
    200: jsonResponse(z.object({ deadLetters: z.array(DeadLetterSchema) }), "Dead letters"),
    ...errors(401),
  },
});

const redrive = createRoute({
  method: "post",
  path: "/deliveries/redrive",
  tags: ["Operations"],
  summary: "Send dead letters not yet redriven back to the deliveries queue, once each (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  request: {
    body: {
      content: {
        "application/json": { schema: z.object({ ids: z.array(z.number().int().positive()).max(100).optional() }) },
      },
      required: false,
    },
  },
  responses: { 200: jsonResponse(z.object({ redriven: z.number() }), "How many were queued"), ...errors(400, 401) },
});

export const opsRoutes = createRouter()
  .openapi(summary, async (c) => c.json(await ledgerSummary(c.env), 200))
  .openapi(deadLetters, async (c) => c.json({ deadLetters: await listDeadLetters(c.env) }, 200))
  .openapi(redrive, async (c) => {
    const body = c.req.header("content-type")?.includes("application/json") ? c.req.valid("json") : {};
    return c.json({ redriven: await redriveDeadLetters(c.env, body?.ids ?? null) }, 200);
  });
