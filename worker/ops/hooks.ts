// Seams to other parts of the app that ops reads.

import { relayerStatus } from "../chain/relayer-status";
import { chainStatus as chainStatusWith } from "../chain/status";

/** The chain indexer's and the relayer's status (its in-flight transactions); null when chain mode is off. */
export function chainStatus(env: Env) {
  return chainStatusWith(env, async (e) => (await relayerStatus(e)).inFlight);
}
