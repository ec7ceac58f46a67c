import { createRoute, z } from "@hono/zod-openapi";
import { relayerStatus } from "../chain/relayer-status";
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

const relayerTx = z.object({
  nonce: z.number(),
  state: z.enum(["pending", "mined", "reverted", "superseded"]),
  payments: z.number(),
  createdAt: z.number(),
  minedHash: z.string().nullable(),
  blockNumber: z.number().nullable(),
  gasUsed: z.string().nullable(),
  attempts: z.array(
    z.object({
      hash: z.string(),
      maxFeePerGas: z.string(),
      maxPriorityFeePerGas: z.string(),
      sentAt: z.number(),
      broadcasts: z.number(),
    }),
  ),
});

const relayer = createRoute({
  method: "get",
  path: "/relayer",
  tags: ["Operations"],
  summary: "Chain mode: the relayer's address, next nonce, queued payments and in-flight transactions (admin)",
  security: bearerAuth,
  middleware: [requireAdmin] as const,
  responses: {
    200: jsonResponse(
      z.object({
        configured: z.boolean(),
        relayer: z.string().nullable(),
        chainId: z.number().nullable(),
        vault: z.string().nullable(),
        nextNonce: z.number().nullable(),
        queued: z.number(),
        failed: z.number(),
        inFlight: z.array(relayerTx),
        recent: z.array(relayerTx),
        lastError: z.string().nullable(),
      }),
      "Relayer status",
    ),
    ...errors(401),
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
  .openapi(relayer, async (c) => c.json(await relayerStatus(c.env), 200))
  .openapi(status, async (c) => {
    const chain = await chainStatus(c.env, async (env) => (await relayerStatus(env)).inFlight);
    return c.json({ chain: chain as Record<string, unknown> | null }, 200);
  });
