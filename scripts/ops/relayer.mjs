// Chain mode: the relayer's address, next nonce, queued payments and in-flight transactions (with every attempt).
export const summary = "relayer status: next nonce, queued payments, in-flight settle transactions";

export async function run(_args, ctx) {
  ctx.print(await ctx.admin("GET", "/v1/ops/relayer"));
}
