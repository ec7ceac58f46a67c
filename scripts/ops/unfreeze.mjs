// POST /v1/ops/accounts/:id/unfreeze.
import { reasonOf } from "./freeze.mjs";

export const summary = 'unfreeze an account: unfreeze <userId> --reason "…"';

export async function run(args, ctx) {
  const userId = args[0];
  if (!userId || userId.startsWith("--")) throw new Error('usage: unfreeze <userId> --reason "…"');
  ctx.print(
    await ctx.admin("POST", `/v1/ops/accounts/${encodeURIComponent(userId)}/unfreeze`, {
      reason: await reasonOf(args),
    }),
  );
}
