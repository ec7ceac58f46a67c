// Money totals over every Account (from the totals rows in D1) and whether they conserve.
export const summary = "money totals from D1 and the conservation check";

export async function run(_args, ctx) {
  ctx.print(await ctx.admin("GET", "/v1/ops/ledger-summary"));
}
