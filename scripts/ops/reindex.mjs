// Chain mode: make the indexer read the vault's events again from block N.
// Asks the running app (POST /v1/ops/reindex), which moves the indexer's own
// checkpoint with its own chain configuration (worker/chain/indexer.ts
// rewindTo): checkpoint id, RPC and start block are the indexer's, and the D1
// database is the one the app uses — including `npm run dev:chain`'s separate
// local state. The checkpoint becomes block N − 1 with its real hash (or is
// removed when N is at or before CHAIN_START_BLOCK); a step already running
// does not overwrite it. Replays are safe: each Account skips the
// (txHash, logIndex) it applied. The next Cron run resumes there.
//   reindex --from-block N        (local app: APP_URL or http://127.0.0.1:$PORT)
//   reindex --from-block N --remote   (APP_URL and ADMIN_TOKEN of the deployment)
export const summary = "chain mode: re-read vault events from --from-block N (moves the indexer checkpoint)";

export async function run(args, ctx) {
  const i = args.indexOf("--from-block");
  const raw = i >= 0 ? args[i + 1] : undefined;
  const from = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(from)) {
    throw new Error("usage: reindex --from-block N (N ≥ 0)");
  }
  const r = await ctx.admin("POST", "/v1/ops/reindex", { fromBlock: from });
  console.log(
    r.checkpoint
      ? `indexer checkpoint ${r.id} → block ${r.checkpoint.blockNumber} (${r.checkpoint.blockHash}); the next Cron run re-reads from block ${from} (head ${r.head})`
      : `indexer checkpoint ${r.id} removed: the next Cron run re-reads from CHAIN_START_BLOCK (head ${r.head})`,
  );
}
