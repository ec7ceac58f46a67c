// The alarm's retention sweep, which keeps an Account's own storage bounded:
// history rows past the retention window move to R2 (history-archive.ts), then
// the tables that only guard against retries are pruned past their horizons.

import { errorSummary } from "../../worker/observability/log";
import { CHUNK_ROWS, commitChunk, HISTORY_KINDS, nextChunk, pruneArchivedIds } from "./history-archive";
import { pruneRetryGuards } from "./storage-bounds";
import type { AccountCore } from "./types";

/**
 * Moves inbox, outbox and ledger rows past the retention window to R2, a
 * chunk at a time, and prunes archived_ids and the other retry guards
 * (storage-bounds.ts) past their horizons.
 * Answers how many rows moved. A failure is logged and retried by a later alarm.
 */
export async function sweepRetention(account: AccountCore, retention: number): Promise<number> {
  let moved = 0;
  try {
    for (const kind of HISTORY_KINDS) {
      for (;;) {
        const chunk = nextChunk(account.sql, account.userId(), kind, Date.now() - retention);
        if (!chunk) break;
        // Other requests run during this await; a row changed meanwhile stays live (commitChunk).
        await account.env.ARCHIVE.put(chunk.key, JSON.stringify(chunk.rows), {
          httpMetadata: { contentType: "application/json" },
        });
        const n = commitChunk(account.sql, chunk);
        moved += n;
        if (n === 0 || chunk.rows.length < CHUNK_ROWS) break;
      }
    }
    pruneArchivedIds(account.sql, Date.now());
    pruneRetryGuards(account.sql, Date.now());
  } catch (err) {
    console.warn(`history archive failed, will retry: ${errorSummary(err)}`);
  }
  return moved;
}
