// Seams to other engineers' parts, named so the merge is a one-line change.
//
// CHAIN HOOK (#10, branch `chain`): worker/chain/status.ts exports
//   chainStatus(env, relayerInFlight?) → ChainStatus | null  (null: chain mode off)
// Until it is merged this answers null ("chain mode off"), which GET
// /v1/ops/status and launch readiness report as such (test/ops-status.test.ts).
//
// CONSENT HOOK (#9, branch `rails`): worker/notify/consent.ts exports
// CONSENT_VERSION. Until it is merged the version comes from the
// CONSENT_VERSION var, if set.

export interface ChainIndexerStatus {
  mode: "chain";
  indexer: {
    checkpoint: { blockNumber: number } | null;
    head: number | null;
    lagBlocks: number | null;
    rpcError?: string;
  };
}

export async function chainStatus(_env: Env): Promise<ChainIndexerStatus | null> {
  return null;
}

export function consentVersion(env: Env): string | null {
  return (env as unknown as Record<string, string | undefined>).CONSENT_VERSION || null;
}
