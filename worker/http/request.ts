// Request helpers shared by route files.
import { z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { sha256Hex } from "../auth/crypto";
import { ApiError } from "./errors";

/** The Idempotency-Key header, validated (1–255 printable ASCII characters), or null. */
export function idempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw new ApiError(400, "invalid_request", "Idempotency-Key must be 1–255 printable ASCII characters.");
  }
  return header;
}

/** A stable fingerprint of the parameters an idempotent request is bound to. */
export function requestHash(parts: unknown[]): Promise<string> {
  return sha256Hex(JSON.stringify(parts));
}

export const PageQuery = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, "must be a cursor from a previous page")
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const cursorOf = (c: string | undefined) => (c === undefined ? null : Number(c));

export const IdempotencyHeader = z.object({
  "idempotency-key": z.string().optional().openapi({ description: "Stripe-style idempotency key" }),
});

/**
 * For routes whose JSON body is optional: an empty body sent with
 * `content-type: application/json` counts as no body (not `400 invalid_json`).
 * Mount in the route's middleware, before validation runs.
 */
export const emptyBodyIsNoBody = createMiddleware(async (c, next) => {
  if (c.req.header("content-type") && !(await c.req.raw.clone().text()).trim()) {
    const headers = new Headers(c.req.raw.headers);
    headers.delete("content-type");
    c.req.raw = new Request(c.req.raw.url, { method: c.req.raw.method, headers });
  }
  await next();
});
