// Schemas shared by several route files.
import { z } from "@hono/zod-openapi";

export const UserSchema = z
  .object({
    id: z.string(),
    handle: z.string().nullable(),
    walletAddress: z.string().nullable(),
    displayName: z.string().nullable(),
    verified: z.object({ email: z.boolean(), phone: z.boolean() }),
  })
  .openapi("User");

/** An EIP-4361 message from POST /v1/auth/siwe/challenge and the wallet's signature of it (sign-in, wallet link). */
export const SignedSiweSchema = z.object({
  message: z.string().min(1).max(4096),
  signature: z
    .string()
    .regex(/^0x[0-9a-fA-F]+$/, "must be 0x-prefixed hex")
    .max(20_000),
});

export const SessionSchema = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string().optional().openapi({
      description:
        "Absent when the sign-in asked for a cookie session (`X-Session: cookie`): then it is an HttpOnly cookie",
    }),
    expiresIn: z.number().int().openapi({ description: "Access token lifetime in seconds" }),
    user: UserSchema,
  })
  .openapi("Session");
