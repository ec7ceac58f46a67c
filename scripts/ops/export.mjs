// An Account's history from the R2 archive: every batch it flushed (ledger
// entries with their deltas, message records, totals), oldest first, read
// through the admin route GET /v1/ops/archive/:accountId (works offline against
// `npm start`, and with --remote against the deployed Worker).
//   npm run ops -- export --account u_… [--out file.jsonl] [--ledger]
// Prints one JSON batch per line (JSON Lines); --ledger prints ledger entries instead.
import { createWriteStream } from "node:fs";

export const summary = "an Account's archived history from R2 (--account <id> [--out file] [--ledger])";

function option(args, name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function run(args, ctx) {
  const account = option(args, "--account");
  if (!account) throw new Error("usage: npm run ops -- export --account <userId> [--out file.jsonl] [--ledger]");
  const outPath = option(args, "--out");
  const out = outPath ? createWriteStream(outPath) : process.stdout;
  const ledgerOnly = args.includes("--ledger");
  let cursor = null;
  let batches = 0;
  let entries = 0;
  let expected = 1;
  do {
    const q = new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) });
    const page = await ctx.admin("GET", `/v1/ops/archive/${encodeURIComponent(account)}?${q}`);
    for (const b of page.batches) {
      // Batches are numbered 1, 2, 3… per Account; a gap means one has not been archived (yet).
      if (b.seq !== expected) console.error(`! batch ${expected} missing before ${b.seq} (still in flight?)`);
      expected = b.seq + 1;
      batches++;
      entries += b.ledger.length;
      if (ledgerOnly) for (const e of b.ledger) out.write(`${JSON.stringify(e)}\n`);
      else out.write(`${JSON.stringify(b)}\n`);
    }
    cursor = page.nextCursor;
  } while (cursor);
  if (outPath) await new Promise((resolve) => out.end(resolve));
  console.error(`${batches} batches, ${entries} ledger entries for ${account}`);
}
