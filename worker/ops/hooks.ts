// Seams to other parts of the app that ops reads.
//
// CONSENT HOOK (#9, branch `rails`): worker/notify/consent.ts exports
// CONSENT_VERSION. Until it is merged the version comes from the
// CONSENT_VERSION var, if set.

/** The chain indexer's (and relayer's) status; null when chain mode is off. */
export { chainStatus } from "../chain/status";

export function consentVersion(env: Env): string | null {
  return (env as unknown as Record<string, string | undefined>).CONSENT_VERSION || null;
}
