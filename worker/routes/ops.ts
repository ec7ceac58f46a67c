import { createRoute, z } from "@hono/zod-openapi";
import { bearerAuth, createRouter, errors, jsonResponse } from "../http/router";
import { requireAdmin } from "../middleware/auth";
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

export const opsRoutes = createRouter().openapi(summary, async (c) => c.json(await ledgerSummary(c.env), 200));
