// Chain mode: make the indexer read the vault's events again from block N.
// Sets the indexer checkpoint (D1 chain_checkpoints, the chain indexer's table)
// to block N − 1 with that block's real hash and time, read from the RPC, so
// the indexer's reorg check accepts it. Replays are safe: each Account
// remembers the (txHash, logIndex) it applied. The next Cron run resumes there.
//   reindex --from-block N [--rpc URL] [--vault 0x…] [--chain-id ID]
// Defaults come from the environment (CHAIN_RPC_URL, VAULT_ADDRESS, CHAIN_ID)
// or wrangler.toml [vars].
import { readFileSync } from "node:fs";

export const summary = "chain mode: re-read vault events from --from-block N (moves the indexer checkpoint)";

const flag = (args, name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function tomlVar(name) {
  const m = readFileSync("wrangler.toml", "utf8").match(new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, "m"));
  return m?.[1] || undefined;
}

export async function run(args, ctx) {
  const from = Number(flag(args, "--from-block"));
  if (!Number.isInteger(from) || from < 1) throw new Error("usage: reindex --from-block N (N ≥ 1)");
  const rpc = flag(args, "--rpc") ?? process.env.CHAIN_RPC_URL ?? tomlVar("CHAIN_RPC_URL");
  const vault = flag(args, "--vault") ?? process.env.VAULT_ADDRESS ?? tomlVar("VAULT_ADDRESS");
  const chainId = Number(flag(args, "--chain-id") ?? process.env.CHAIN_ID ?? tomlVar("CHAIN_ID"));
  if (!rpc || !vault)
    throw new Error("need the chain RPC URL and vault address (--rpc, --vault or CHAIN_RPC_URL, VAULT_ADDRESS)");
  const tables = ctx.d1("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'chain_checkpoints'");
  if (tables.length === 0) {
    throw new Error("this database has no chain_checkpoints table: the chain indexer is not in this build");
  }
  const { createPublicClient, getAddress, http } = await import("viem");
  const block = await createPublicClient({ transport: http(rpc) }).getBlock({ blockNumber: BigInt(from - 1) });
  const id = `${chainId}:${getAddress(vault)}`;
  ctx.d1(
    `INSERT INTO chain_checkpoints (id, block_number, block_hash, block_time, updated_at)
     VALUES ('${id}', ${from - 1}, '${block.hash}', ${Number(block.timestamp)}, ${Date.now()})
     ON CONFLICT (id) DO UPDATE SET block_number = excluded.block_number, block_hash = excluded.block_hash,
       block_time = excluded.block_time, updated_at = excluded.updated_at`,
  );
  console.log(
    `indexer checkpoint ${id} → block ${from - 1} (${block.hash}); the next Cron run re-reads from block ${from}`,
  );
}
