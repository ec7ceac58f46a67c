// Chain part of GET /v1/ops/status: the indexer's checkpoint and lag, and the
// relayer's in-flight transactions (when the relayer is deployed).
import { type ChainConfig, chainConfig } from "./config";
import { chainClient, readCheckpoint } from "./indexer";

export interface ChainStatus {
  mode: "chain";
  chainId: number;
  vault: string;
  confirmations: number;
  indexer: {
    checkpoint: { blockNumber: number; blockHash: string; blockTime: string } | null;
    head: number | null;
    lagBlocks: number | null;
    /** Seconds between the head block and the checkpoint block (chain time). */
    lagSeconds: number | null;
    rpcError?: string;
  };
  relayer: { inFlight: unknown[] | null };
}

/** Relayer hook: the relayer Durable Object (branch `relayer`) reports its in-flight transactions here. */
export type RelayerInFlight = (env: Env) => Promise<unknown[] | null>;

export async function chainStatus(env: Env, relayerInFlight?: RelayerInFlight): Promise<ChainStatus | null> {
  const c: ChainConfig | null = chainConfig(env);
  if (!c) return null;
  const cp = await readCheckpoint(env, c);
  let head: { number: number; time: number } | null = null;
  let rpcError: string | undefined;
  try {
    const b = await chainClient(c).getBlock({ blockTag: "latest" });
    head = { number: Number(b.number), time: Number(b.timestamp) };
  } catch (err) {
    rpcError = (err as Error).name;
  }
  return {
    mode: "chain",
    chainId: c.chainId,
    vault: c.vault,
    confirmations: c.confirmations,
    indexer: {
      checkpoint: cp
        ? {
            blockNumber: cp.blockNumber,
            blockHash: cp.blockHash,
            blockTime: new Date(cp.blockTime * 1000).toISOString(),
          }
        : null,
      head: head?.number ?? null,
      lagBlocks: head ? head.number - (cp?.blockNumber ?? Number(c.startBlock) - 1) : null,
      lagSeconds: head && cp ? Math.max(0, head.time - cp.blockTime) : null,
      ...(rpcError ? { rpcError } : {}),
    },
    relayer: { inFlight: relayerInFlight ? await relayerInFlight(env).catch(() => null) : null },
  };
}
