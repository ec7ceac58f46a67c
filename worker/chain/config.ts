// Chain mode settings, read from [vars]. Null when LEDGER_MODE is not `chain`
// or the vault is not configured (the app then answers 503 chain_unconfigured
// on the chain routes instead of guessing).
import { type Address, getAddress, isAddress } from "viem";
import { config } from "../config";
import { ApiError } from "../http/errors";

export interface ChainConfig {
  rpcUrl: string;
  chainId: number;
  vault: Address;
  token: Address | null;
  /** Blocks an event must be under the head before it is applied. */
  confirmations: number;
  /** First block the indexer reads (the vault's deploy block). */
  startBlock: bigint;
  /** Widest getLogs range in blocks. */
  maxRange: bigint;
  pollMs: number;
  runMs: number;
}

const num = (v: string | undefined, fallback: number) => (v && /^\d+$/.test(v) ? Number(v) : fallback);

export function chainConfig(env: Env): ChainConfig | null {
  const cfg = config(env);
  if (cfg.ledgerMode !== "chain" || !cfg.chainRpcUrl || !isAddress(env.VAULT_ADDRESS ?? "", { strict: false })) {
    return null;
  }
  return {
    rpcUrl: cfg.chainRpcUrl,
    chainId: cfg.chainId,
    vault: getAddress(env.VAULT_ADDRESS),
    token: isAddress(env.TOKEN_ADDRESS ?? "", { strict: false }) ? getAddress(env.TOKEN_ADDRESS) : null,
    confirmations: num(env.CONFIRMATIONS, 2),
    startBlock: BigInt(num(env.CHAIN_START_BLOCK, 0)),
    maxRange: BigInt(Math.max(1, num(env.INDEXER_MAX_RANGE, 2000))),
    pollMs: num(env.INDEXER_POLL_MS, 2000),
    runMs: num(env.INDEXER_RUN_MS, 50_000),
  };
}

/** The chain config, or a clear 503 when chain mode is on but not configured. */
export function requireChain(env: Env): ChainConfig {
  const c = chainConfig(env);
  if (!c) {
    throw new ApiError(503, "chain_unconfigured", "Chain mode needs CHAIN_RPC_URL and VAULT_ADDRESS.");
  }
  return c;
}
