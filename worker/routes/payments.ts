import { createRoute, z } from "@hono/zod-openapi";
import { isAddress } from "viem";
import { requireChain } from "../chain/config";
import { issueIntent } from "../chain/intents";
import { config } from "../config";
import { devToolsEnabled } from "../http/dev-only";
import { ApiError } from "../http/errors";
import { failToError } from "../http/outcomes";
import { cursorOf, IdempotencyHeader, idempotencyKey, PageQuery, requestHash } from "../http/request";
import { Amount, bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { requireUser } from "../middleware/auth";
import { resolveSendTarget } from "../recipients";
import { MessageBody } from "./messages";

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

const TypedData = z
  .object({
    domain: z.object({
      name: z.literal("PayInboxVault"),
      version: z.literal("1"),
      chainId: z.number(),
      verifyingContract: z.string(),
    }),
    types: z.object({ Payment: z.array(z.object({ name: z.string(), type: z.string() })).readonly() }),
    primaryType: z.literal("Payment"),
    message: z.object({
      payer: z.string(),
      recipient: z.string(),
      messageId: z.string(),
      contentHash: z.string(),
      amount: z.string(),
      nonce: z.string(),
      deadline: z.string(),
    }),
  })
  .openapi("PaymentTypedData", { description: "EIP-712 typed data for eth_signTypedData_v4 (uint256 as strings)" });

export const IntentSchema = z
  .object({
    messageId: z.string(),
    quote: z.object({ price: z.string(), fee: z.string(), total: z.string() }),
    typedData: TypedData,
    expiresAt: z.string(),
  })
  .openapi("PaymentIntent");

const intent = createRoute({
  method: "post",
  path: "/intents",
  tags: tag,
  summary: "Chain mode: the EIP-712 payment to sign for a message (nothing is reserved)",
  description:
    "Quote, recipient wallet, messageId, contentHash (keccak256 of the UTF-8 body), your next vault nonce and a deadline, " +
    "as typed data. Sign it with the linked wallet and send `{to, body, payment: {message: typedData.message, signature}}` " +
    "to POST /v1/messages. An intent you never send blocks nothing. The same Idempotency-Key here and on the send names the same message. " +
    "`503 fee_mismatch` while the app's FEE_BPS differs from the vault's fee (payments paused).",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: {
    headers: IdempotencyHeader,
    body: jsonBody(
      z
        .object({
          to: z.string().min(1).max(64).openapi({ description: "handle, @handle or user id" }),
          body: MessageBody,
          maxPrice: Amount.optional(),
        })
        .strict(),
    ),
  },
  responses: {
    200: jsonResponse(IntentSchema, "Sign `typedData`"),
    ...errors(400, 401, 402, 404, 409, 503),
  },
});

const vaultInfo = createRoute({
  method: "get",
  path: "/vault",
  tags: tag,
  summary: "Chain mode: where deposits and withdrawals happen (the vault, its token, the chain)",
  responses: {
    200: jsonResponse(
      z.object({
        chainId: z.number(),
        vault: z.string(),
        token: z.string().nullable(),
        confirmations: z.number().openapi({ description: "blocks before a deposit or withdrawal counts" }),
      }),
      "The vault",
    ),
    ...errors(409, 503),
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
  .openapi(vaultInfo, async (c) => {
    if (config(c.env).ledgerMode !== "chain") {
      throw new ApiError(409, "not_chain_mode", "The simulated ledger has no vault.");
    }
    const v = requireChain(c.env);
    return c.json({ chainId: v.chainId, vault: v.vault, token: v.token, confirmations: v.confirmations }, 200);
  })
  .openapi(intent, async (c) => {
    if (config(c.env).ledgerMode !== "chain") {
      throw new ApiError(409, "not_chain_mode", "Payment intents exist in chain mode only; send directly.");
    }
    requireChain(c.env);
    const { to, body, maxPrice } = c.req.valid("json");
    const target = await resolveSendTarget(c.env, to, true);
    if (!target) throw new ApiError(404, "recipient_not_found", "No such recipient.");
    const answer = await issueIntent(c.env, {
      senderId: c.var.userId,
      recipientId: target.id,
      body,
      maxPrice: maxPrice ?? null,
      idempotencyKey: idempotencyKey(c.req.header("idempotency-key")),
    });
    return c.json(answer, 200);
  })
  .openapi(withdraw, async (c) => {
    const cfg = config(c.env);
    if (cfg.ledgerMode === "chain") {
      // Custody is the vault: the user's wallet withdraws; the indexed Withdrawn becomes the ledger entry.
      const { available } = await c.env.ACCOUNT.getByName(c.var.userId).chainIntent(null);
      throw new ApiError(409, "use_onchain_withdraw", "Withdraw from the vault with your wallet.", {
        chainId: cfg.chainId,
        vault: c.env.VAULT_ADDRESS || null,
        token: c.env.TOKEN_ADDRESS || null,
        available,
      });
    }
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
