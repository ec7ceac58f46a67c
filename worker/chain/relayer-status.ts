// The Relayer Durable Object (one instance) and its status for ops: the relayer
// address, next nonce, queued payments and every in-flight transaction with
// its attempts (hashes and fees).
import type { RelayerStatus } from "../../durable-objects/relayer";

/** The single Relayer instance: it alone owns the relayer account's nonce. */
export const RELAYER_NAME = "relayer";

export function relayerStub(env: Env) {
  return env.RELAYER.get(env.RELAYER.idFromName(RELAYER_NAME));
}

export function relayerStatus(env: Env): Promise<RelayerStatus> {
  return relayerStub(env).status();
}

export type { RelayerStatus };
