import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { complain } from "../abuse";
import { MESSAGE_ID_RE, type MessageId } from "../domain/message-id";
import { isWellFormed } from "../domain/text";
import { ApiError, notFound } from "../http/errors";
import { cursorOf, IdempotencyHeader, idempotencyKey, PageQuery } from "../http/request";
import { Amount, bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { requireUser } from "../middleware/auth";
import { bump } from "../observability/counters";
import { metric } from "../observability/log";
import { type SendInput, type Sent, sendTo, sendToId } from "../send";

type SendPayment = SendInput["payment"];

// zod counts UTF-16 code units; the contract says characters, so count code points.
export const MessageBody = z
  .string()
  .refine(isWellFormed, "must be well-formed Unicode (no lone surrogates)")
  .refine((s) => {
    const n = [...s].length;
    return n >= 1 && n <= 8000;
  }, "must be 1–8000 characters")
  .openapi({ description: "1–8000 characters of well-formed Unicode" });

const Receipt = z
  .object({
    messageId: z.string(),
    price: z.string(),
    fee: z.string(),
    total: z.string(),
    status: z.enum(["delivered", "accepted", "escrowed"]),
    createdAt: z.string(),
  })
  .openapi("SendReceipt");

const InboxMessage = z
  .object({
    messageId: z.string(),
    from: z.object({ id: z.string(), handle: z.string().nullable() }),
    body: z.string(),
    price: z.string(),
    status: z.string(),
    createdAt: z.string(),
    readAt: z.string().nullable(),
    txHash: z.string().nullable().openapi({ description: "chain mode: the transaction that paid it" }),
    inReplyTo: z.string().nullable(),
    replyBy: z
      .string()
      .nullable()
      .openapi({ description: "pay-on-reply messages: reply before this time to collect the price (else null)" }),
  })
  .openapi("InboxMessage");

const OutboxMessage = z
  .object({
    messageId: z.string(),
    to: z.object({ id: z.string(), handle: z.string().nullable() }),
    body: z.string(),
    price: z.string(),
    fee: z.string(),
    status: z.string(),
    createdAt: z.string(),
    inReplyTo: z.string().nullable(),
    txHash: z.string().nullable().openapi({ description: "chain mode: the transaction that paid it" }),
    failure: z
      .string()
      .nullable()
      .openapi({ description: "chain mode, status payment_failed: the vault's reason (e.g. InsufficientBalance)" }),
  })
  .openapi("OutboxMessage");

const MessageParam = z.object({
  messageId: z
    .string()
    .transform((s) => s.toLowerCase())
    .refine((s) => MESSAGE_ID_RE.test(s), "must be 0x + 64 hex"),
});

const Hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x + 64 hex");
const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be an EVM address");
const Uint = z.string().regex(/^(0|[1-9]\d{0,77})$/, "must be a decimal string");

/** Chain mode: the intent's typed-data `message`, as signed, and the wallet's signature. */
export const SignedPayment = z
  .object({
    message: z
      .object({
        payer: Address,
        recipient: Address,
        messageId: Hex32,
        contentHash: Hex32,
        amount: Uint,
        nonce: Uint,
        deadline: Uint,
      })
      .strict(),
    signature: z.string().regex(/^0x([0-9a-fA-F]{2})+$/, "must be hex bytes"),
  })
  .strict()
  .openapi("SignedPayment", {
    description:
      "Chain mode only (required there): `typedData.message` from POST /v1/payments/intents and the wallet's EIP-712 signature of it",
  });

const sendResponses = {
  201: jsonResponse(Receipt, "Sent and paid (or an idempotent replay of that answer: `Idempotent-Replayed: true`)"),
  ...errors(400, 401, 402, 403, 404, 409, 429),
};

const send = createRoute({
  method: "post",
  path: "/messages",
  tags: ["Messages"],
  summary: "Pay and send a message",
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
          payment: SignedPayment.optional(),
        })
        .strict(),
    ),
  },
  responses: sendResponses,
});

const inbox = createRoute({
  method: "get",
  path: "/inbox",
  tags: ["Messages"],
  summary: "Your inbox, newest first",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { query: PageQuery },
  responses: {
    200: jsonResponse(
      z.object({
        messages: z.array(InboxMessage),
        nextCursor: z.string().nullable(),
        unread: z.number().int().openapi({ description: "unread messages in the whole inbox, not just this page" }),
      }),
      "A page",
    ),
    ...errors(400, 401),
  },
});

const inboxOne = createRoute({
  method: "get",
  path: "/inbox/{messageId}",
  tags: ["Messages"],
  summary: "One message of your inbox",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: MessageParam },
  responses: { 200: jsonResponse(InboxMessage, "The message"), ...errors(400, 401, 404) },
});

const read = createRoute({
  method: "post",
  path: "/inbox/{messageId}/read",
  tags: ["Messages"],
  summary: "Mark a message read",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: MessageParam },
  responses: { 204: { description: "Marked read" }, ...errors(400, 401, 404) },
});

const reply = createRoute({
  method: "post",
  path: "/inbox/{messageId}/reply",
  tags: ["Messages"],
  summary: "Reply (a paid send to the original sender); releases an escrowed payment",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: {
    params: MessageParam,
    headers: IdempotencyHeader,
    body: jsonBody(
      z.object({ body: MessageBody, maxPrice: Amount.optional(), payment: SignedPayment.optional() }).strict(),
    ),
  },
  responses: sendResponses,
});

const report = createRoute({
  method: "post",
  path: "/inbox/{messageId}/report",
  tags: ["Messages"],
  summary: "Report as spam: blocks the sender and counts against their reputation",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { params: MessageParam },
  responses: { 204: { description: "Reported; the sender is blocked" }, ...errors(400, 401, 404) },
});

const outbox = createRoute({
  method: "get",
  path: "/outbox",
  tags: ["Messages"],
  summary: "Messages you sent, newest first, with status",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: { query: PageQuery },
  responses: {
    200: jsonResponse(z.object({ messages: z.array(OutboxMessage), nextCursor: z.string().nullable() }), "A page"),
    ...errors(400, 401),
  },
});

const noSuchMessage = () => notFound("message_not_found", "No such message in your inbox.");

/** 201, also for a replay (the first answer's status, API.md), which adds `Idempotent-Replayed: true`. */
function answerSent(c: Context, { receipt, replayed }: Sent) {
  if (replayed) c.header("Idempotent-Replayed", "true");
  else {
    metric(c.env, { kind: "send", label: receipt.status, amount: BigInt(receipt.total), fee: BigInt(receipt.fee) });
    bump("sends");
    bump("volume", BigInt(receipt.total));
    bump("fees", BigInt(receipt.fee));
  }
  return c.json(receipt, 201);
}

export const messageRoutes = createRouter()
  .openapi(send, async (c) => {
    const { to, body, maxPrice, payment } = c.req.valid("json");
    if (to.startsWith("+")) throw new ApiError(400, "invalid_request", "Send to a handle or user id.");
    const sent = await sendTo(c.env, c.executionCtx, to, {
      senderId: c.var.userId,
      body,
      maxPrice: maxPrice ?? null,
      idempotencyKey: idempotencyKey(c.req.header("idempotency-key")),
      inReplyTo: null,
      payment: payment as SendPayment,
    });
    return answerSent(c, sent);
  })
  .openapi(inbox, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const p = await c.env.ACCOUNT.getByName(c.var.userId).inbox(cursorOf(cursor), limit);
    return c.json({ messages: p.items, nextCursor: p.nextCursor, unread: p.unread }, 200);
  })
  .openapi(inboxOne, async (c) => {
    const m = await c.env.ACCOUNT.getByName(c.var.userId).inboxMessage(c.req.valid("param").messageId);
    if (!m) throw noSuchMessage();
    return c.json(m, 200);
  })
  .openapi(read, async (c) => {
    const ok = await c.env.ACCOUNT.getByName(c.var.userId).markRead(c.req.valid("param").messageId);
    if (!ok) throw noSuchMessage();
    return c.body(null, 204);
  })
  .openapi(reply, async (c) => {
    const { messageId } = c.req.valid("param");
    const original = await c.env.ACCOUNT.getByName(c.var.userId).inboxMessage(messageId);
    if (!original) throw noSuchMessage();
    const { body, maxPrice, payment } = c.req.valid("json");
    const sent = await sendToId(c.env, c.executionCtx, original.from.id, {
      senderId: c.var.userId,
      body,
      maxPrice: maxPrice ?? null,
      idempotencyKey: idempotencyKey(c.req.header("idempotency-key")),
      inReplyTo: messageId as MessageId,
      payment: payment as SendPayment,
      // The first reply to an escrowed message is free and releases the escrow.
      freeReply: original.status === "escrowed",
    });
    return answerSent(c, sent);
  })
  .openapi(report, async (c) => {
    const senderId = await c.env.ACCOUNT.getByName(c.var.userId).report(c.req.valid("param").messageId);
    if (!senderId) throw noSuchMessage();
    complain(c.env, c.executionCtx, senderId, c.var.userId, "report");
    return c.body(null, 204);
  })
  .openapi(outbox, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const p = await c.env.ACCOUNT.getByName(c.var.userId).outbox(cursorOf(cursor), limit);
    return c.json({ messages: p.items, nextCursor: p.nextCursor }, 200);
  });
