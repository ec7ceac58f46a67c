// POST /v1/ops/accounts/:id/freeze — sends and withdrawals refused, reads allowed.
export const summary = 'freeze an account: freeze <userId> --reason "…"';

export async function reasonOf(args) {
  const i = args.indexOf("--reason");
  const reason = i >= 0 ? args[i + 1] : undefined;
  if (!reason) throw new Error('--reason "…" is required (it is recorded in the account\'s audit chain)');
  return reason;
}

export async function run(args, ctx) {
  const userId = args[0];
  if (!userId || userId.startsWith("--")) throw new Error('usage: freeze <userId> --reason "…"');
  ctx.print(
    await ctx.admin("POST", `/v1/ops/accounts/${encodeURIComponent(userId)}/freeze`, { reason: await reasonOf(args) }),
  );
}
