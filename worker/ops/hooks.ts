// Seams to other parts of the app that ops reads.
//
// CONSENT HOOK (#9, branch `rails`): worker/notify/consent.ts exports
// CONSENT_VERSION. Until it is merged the version comes from the
// CONSENT_VERSION var, if set.

import { relayerStatus } from "../chain/relayer-status";
import { chainStatus as chainStatusWith } from "../chain/status";

/** The chain indexer's and the relayer's status (its in-flight transactions); null when chain mode is off. */
export function chainStatus(env: Env) {
  return chainStatusWith(env, async (e) => (await relayerStatus(e)).inFlight);
}

export function consentVersion(env: Env): string | null {
  return (env as unknown as Record<string, string | undefined>).CONSENT_VERSION || null;
}
