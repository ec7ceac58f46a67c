// The vault's fee (basis points, set on chain by its owner) against FEE_BPS, the
// fee the app quotes and holds. They must agree: the vault takes its own fee at
// settlement, so a mismatch would charge payers something other than the quote
// (or skip payments the hold did not cover). Intents are refused and launch
// readiness fails while they differ.
import { createPublicClient, http } from "viem";
import { errorSummary } from "../observability/log";
import { vaultAbi } from "./abis";
import type { ChainConfig } from "./config";

/** The vault's fee changes rarely (an owner transaction): read at most this often per isolate. */
const CACHE_MS = 30_000;
let cached: { key: string; bps: bigint; at: number } | null = null;

/** The vault's `feeBps()`, or null when the RPC does not answer. */
export async function vaultFeeBps(c: Pick<ChainConfig, "rpcUrl" | "vault">, now = Date.now()): Promise<bigint | null> {
  const key = `${c.rpcUrl}|${c.vault}`;
  if (cached && cached.key === key && now - cached.at < CACHE_MS) return cached.bps;
  try {
    const client = createPublicClient({ transport: http(c.rpcUrl, { retryCount: 0, timeout: 5_000 }) });
    const bps = BigInt(await client.readContract({ address: c.vault, abi: vaultAbi, functionName: "feeBps" }));
    cached = { key, bps, at: now };
    return bps;
  } catch (err) {
    console.warn(`vault fee read failed: ${errorSummary(err)}`);
    return null;
  }
}

/** Why FEE_BPS and the vault's fee disagree, or null when they agree (or the vault's is unknown). */
export function feeMismatch(feeBps: bigint, vaultBps: bigint | null): string | null {
  if (vaultBps === null || vaultBps === feeBps) return null;
  return `FEE_BPS is ${feeBps} but the vault charges ${vaultBps} basis points`;
}
