// Linking a wallet to a signed-in user (passkey or social sign-in users): the
// same SIWE challenge as sign-in, proving control of the address. In chain mode
// the linked wallet is the user's vault account; funds that reached it before
// the link are credited by the indexer's next step (worker/chain/unclaimed.ts).
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import { verifyChallenge } from "../auth/siwe";
import { config } from "../config";
import { db, isUniqueViolation } from "../db/client";
import { users } from "../db/schema";
import { ApiError } from "../http/errors";
import { bearerAuth, createRouter, errors, jsonBody, jsonResponse } from "../http/router";
import { requireUser } from "../middleware/auth";
import { findUser, toUserJson } from "../users";
import { SignedSiweSchema } from "./schemas";

const link = createRoute({
  method: "post",
  path: "/wallet",
  tags: ["Me"],
  summary: "Link a wallet: sign the EIP-4361 message from POST /v1/auth/siwe/challenge with it",
  description:
    "For users who signed in with a passkey or a social account. A wallet belongs to one user (409 wallet_taken); " +
    "a user keeps the wallet they linked (409 wallet_already_linked). In chain mode it is the user's vault account.",
  security: bearerAuth,
  middleware: [requireUser] as const,
  request: {
    body: jsonBody(SignedSiweSchema),
  },
  responses: {
    200: jsonResponse(z.object({ user: z.record(z.string(), z.unknown()) }), "Linked"),
    ...errors(400, 401, 409),
  },
});

export const walletRoutes = createRouter().openapi(link, async (c) => {
  const { message, signature } = c.req.valid("json");
  const cfg = config(c.env);
  const origin = cfg.appOrigin ?? new URL(c.req.url).origin;
  const outcome = await verifyChallenge(c.env, { origin, chainId: cfg.chainId }, message, signature as `0x${string}`);
  if (!outcome.ok) throw new ApiError(401, "unauthorized", `Wallet link refused (${outcome.reason}).`);
  let row: typeof users.$inferSelect | undefined;
  try {
    [row] = await db(c.env)
      .update(users)
      .set({ walletAddress: outcome.address, updatedAt: Date.now() })
      .where(and(eq(users.id, c.var.userId), isNull(users.walletAddress)))
      .returning();
  } catch (err) {
    if (isUniqueViolation(err, "wallet")) {
      throw new ApiError(409, "wallet_taken", "That wallet belongs to another user.");
    }
    throw err;
  }
  if (!row) {
    const user = await findUser(c.env, c.var.userId);
    if (user?.walletAddress === outcome.address) {
      return c.json({ user: toUserJson(user) as unknown as Record<string, unknown> }, 200);
    }
    throw new ApiError(409, "wallet_already_linked", "This user already has a linked wallet.");
  }
  return c.json({ user: toUserJson(row) as unknown as Record<string, unknown> }, 200);
});
