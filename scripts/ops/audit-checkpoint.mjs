// POST /v1/ops/audit/checkpoints: sign a checkpoint over every Account's audit head now
// (the Cron does it every AUDIT_CHECKPOINT_MINUTES).
export const summary = "sign an audit checkpoint (Merkle root of every Account's head) now";

export async function run(_args, ctx) {
  ctx.print(await ctx.admin("POST", "/v1/ops/audit/checkpoints"));
}
