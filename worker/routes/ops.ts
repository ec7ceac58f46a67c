import { createRoute, z } from "@hono/zod-openapi";
import { readBatches } from "../archive";
import { chainStatus } from "../chain/status";
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

const ArchivedBatch = z
  .object({
    v: z.literal(1),
    accountId: z.string(),
    seq: z.number(),
    frozenAt: z.number(),
    ledger: z.array(z.record(z.string(), z.unknown())),
    messages: z.array(z.record(z.string(), z.unknown())),
    totals: z.record(z.string(), z.unknown()),
  })
  .passthrough()
  .openapi("ArchivedBatch");

const archive = createRoute({
  method: "get",
  path: "/archive/{accountId}",
  tags: ["Operations"],
  summary: "An Account's flushed batches from the R2 archive, oldest first (admin; `npm run ops -- export`)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  request: {
    params: z.object({ accountId: z.string().regex(/^u_[A-Za-z0-9_-]{1,64}$/) }),
    query: z.object({
      cursor: z.string().max(1024).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(50),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ batches: z.array(ArchivedBatch), nextCursor: z.string().nullable() }),
      "One page of batches",
    ),
    ...errors(400, 401),
  },
});

const status = createRoute({
  method: "get",
  path: "/status",
  tags: ["Operations"],
  summary: "Operational status (admin): in chain mode the indexer checkpoint and lag, the relayer's in-flight txs",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  responses: {
    200: jsonResponse(
      z.object({ chain: z.record(z.string(), z.unknown()).nullable() }).passthrough(),
      "Status; `chain` is null in simulated mode",
    ),
    ...errors(401),
  },
});

export const opsRoutes = createRouter()
  .openapi(summary, async (c) => c.json(await ledgerSummary(c.env), 200))
  .openapi(archive, async (c) => {
    const { accountId } = c.req.valid("param");
    const { cursor, limit } = c.req.valid("query");
    return c.json(await readBatches(c.env.ARCHIVE, accountId, cursor, limit), 200);
  })
  .openapi(status, async (c) => {
    const chain = await chainStatus(c.env);
    return c.json({ chain: chain as Record<string, unknown> | null }, 200);
  });
