// The chain indexer's Cron, driven locally (`npm run dev:chain`, `npm run
// bench:chain`, e2e/chain.test.ts). `wrangler dev` fires no cron triggers and
// `/cdn-cgi/handler/scheduled` fails with static assets, so the app runs with
// `--test-scheduled` and this calls the real `scheduled()` through its
// `/__scheduled` route (the Worker runs first for every path but /assets/*).
//
// Short runs: with SHORT_RUN_VARS each scheduled() run catches up and returns,
// and the driver calls it again every `everyMs` — what a deployed run's
// INDEXER_POLL_MS loop does inside one long invocation. One long run per minute
// instead made wrangler dev's inspector proxy reset its connection during a
// burst of events and the dev proxy answer in-flight requests with 503
// (docs/architecture.md, Chain mode, "Locally").

/** The `--var`s that make each scheduled() run a short catch-up run. */
export const SHORT_RUN_VARS = { INDEXER_RUN_MS: "0", INDEXER_POLL_MS: "0" };

/**
 * Calls `${base}/__scheduled` (the every-minute cron) every `everyMs` until stopped.
 * `onError` hears a failed call (a non-2xx answer or a connection error); the loop goes on.
 * @returns {{ stop: () => Promise<void> }} stop waits for the call in flight.
 */
export function driveIndexer(base, { everyMs = 500, onError = () => {} } = {}) {
  let on = true;
  const url = `${base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`;
  const done = (async () => {
    while (on) {
      try {
        const res = await fetch(url);
        // Read to the end: a cancelled body resets the connection, and workerd logs the broken pipe as an error.
        await res.arrayBuffer();
        if (!res.ok) onError(new Error(`/__scheduled answered ${res.status}`));
      } catch (err) {
        if (on) onError(err);
      }
      if (on) await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop() {
      on = false;
      return done;
    },
  };
}
