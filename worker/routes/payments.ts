import { createRoute, z } from "@hono/zod-openapi";
import { isAddress } from "viem";
import { config } from "../config";
import { devToolsEnabled } from "../http/dev-only";
import { ApiError } from "../http/errors";
import { failToError } from "../http/outcomes";
import { cursorOf, IdempotencyHeader, idempotencyKey, PageQuery, requestHash } from "../http/request";
import { Amount, bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { requireUser } from "../middleware/auth";

const tag = ["Payments"];
const PositiveAmount = Amount.refine((s) => s !== "0", "must be greater than 0");

const topup = createRoute({
  method: "post",
  path: "/topup",
  tags: tag,
  summary: "Dev faucet: add test funds (simulated ledger only)",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { headers: IdempotencyHeader, body: jsonBody(z.object({ amount: PositiveAmount }).strict()) },
  responses: {
    200: jsonResponse(z.object({ balance: z.string(), entryId: z.string() }), "Topped up"),
    ...errors(400, 401, 403, 409),
  },
});

const withdraw = createRoute({
  method: "post",
  path: "/withdraw",
  tags: tag,
  summary: "Withdraw from your balance",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: {
    headers: IdempotencyHeader,
    body: jsonBody(
      z
        .object({
          amount: PositiveAmount,
          to: z
            .string()
            .refine((a) => isAddress(a, { strict: false }), "must be an EVM address")
            .optional(),
        })
        .strict(),
    ),
  },
  responses: {
    200: jsonResponse(
      z.object({
        balance: z.string(),
        withdrawalId: z.string(),
        status: z.enum(["simulated"]).openapi({
          description: "`simulated`: the simulated ledger took the amount off your balance; nothing was paid out",
        }),
      }),
      "Withdrawn",
    ),
    ...errors(400, 401, 402, 409),
  },
});

const ledger = createRoute({
  method: "get",
  path: "/ledger",
  tags: tag,
  summary: "Your ledger entries, newest first",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { query: PageQuery },
  responses: {
    200: jsonResponse(
      z.object({
        entries: z.array(
          z.object({
            id: z.string(),
            kind: z.string(),
            amount: z.string(),
            balanceAfter: z.string(),
            ref: z.string().nullable(),
            createdAt: z.string(),
          }),
        ),
        nextCursor: z.string().nullable(),
      }),
      "A page",
    ),
    ...errors(400, 401),
  },
});

export const paymentRoutes = createRouter()
  .openapi(topup, async (c) => {
    const cfg = config(c.env);
    if (cfg.ledgerMode === "chain") {
      throw new ApiError(409, "use_onchain_deposit", "Deposit USDC into the vault on chain.", {
        chainId: cfg.chainId,
        vault: c.env.VAULT_ADDRESS || null,
        token: c.env.TOKEN_ADDRESS || null,
      });
    }
    if (!devToolsEnabled(c.env, c.req.url)) {
      throw new ApiError(403, "faucet_disabled", "The test-funds faucet exists only in local development.");
    }
    const { amount } = c.req.valid("json");
    if (BigInt(amount) > cfg.topupMax) {
      throw new ApiError(400, "invalid_request", `A top-up is at most ${cfg.topupMax} base units.`, {
        issues: [{ path: "amount", message: `at most ${cfg.topupMax}` }],
      });
    }
    const key = idempotencyKey(c.req.header("idempotency-key"));
    const r = await c.env.ACCOUNT.getByName(c.var.userId).topup(amount, key, await requestHash(["topup", amount]));
    if (!r.ok) throw failToError(r);
    if (r.replayed) c.header("Idempotent-Replayed", "true");
    return c.json(r.body as { balance: string; entryId: string }, 200);
  })
  .openapi(withdraw, async (c) => {
    const { amount, to } = c.req.valid("json");
    const key = idempotencyKey(c.req.header("idempotency-key"));
    const hash = await requestHash(["withdraw", amount, to ?? null]);
    const r = await c.env.ACCOUNT.getByName(c.var.userId).withdraw(amount, to ?? null, key, hash);
    if (!r.ok) throw failToError(r, { insufficient_balance: "Your balance does not cover this withdrawal." });
    if (r.replayed) c.header("Idempotent-Replayed", "true");
    return c.json(r.body as { balance: string; withdrawalId: string; status: "simulated" }, 200);
  })
  .openapi(ledger, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const p = await c.env.ACCOUNT.getByName(c.var.userId).ledger(cursorOf(cursor), limit);
    return c.json({ entries: p.items, nextCursor: p.nextCursor }, 200);
  });
