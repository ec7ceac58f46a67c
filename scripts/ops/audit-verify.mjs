// Verifies an Account's audit chain offline, with the Worker's own hashing rules.
//   audit-verify FILE [--public-key HEX]              check a saved export
//   audit-verify --account USER_ID --out FILE          fetch every page from the app, save, and check it
// The export is {scheme, accountId, entries, inclusion}: every chained ledger
// entry and the Merkle proof of the account's head in the newest signed
// checkpoint. Exit 1 and the first broken entry when anything does not verify.
import { readFileSync, writeFileSync } from "node:fs";
import { loadTs } from "../load-ts.mjs";

export const summary = "verify an audit export offline (FILE), or fetch one (--account ID --out FILE) and verify it";

const flag = (args, name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

async function fetchExport(ctx, accountId, scheme) {
  const entries = [];
  let cursor = "";
  let inclusion = null;
  for (;;) {
    const q = `/v1/ops/audit?account=${encodeURIComponent(accountId)}&limit=1000${cursor ? `&cursor=${cursor}` : ""}`;
    const page = await ctx.admin("GET", q);
    entries.push(...page.account.entries);
    inclusion = page.account.inclusion;
    if (!page.account.nextCursor) break;
    cursor = page.account.nextCursor;
  }
  const strip = inclusion && {
    checkpoint: inclusion.checkpoint,
    leaf: inclusion.leaf,
    proof: inclusion.proof,
  };
  return { scheme, accountId, entries, inclusion: strip };
}

export async function run(args, ctx) {
  const chain = await loadTs("worker/domain/audit-chain.ts");
  const account = flag(args, "--account");
  let x;
  if (account) {
    x = await fetchExport(ctx, account, chain.AUDIT_SCHEME);
    const out = flag(args, "--out");
    if (out) {
      writeFileSync(out, `${JSON.stringify(x, null, 2)}\n`);
      console.log(`saved ${x.entries.length} entries of ${account} to ${out}`);
    }
  } else {
    const file = args.find((a) => !a.startsWith("--") && a !== flag(args, "--public-key"));
    if (!file) throw new Error("usage: audit-verify FILE [--public-key HEX] | audit-verify --account ID [--out FILE]");
    x = JSON.parse(readFileSync(file, "utf8"));
  }
  const v = chain.verifyExport(x, flag(args, "--public-key") ?? process.env.AUDIT_PUBLIC_KEY);
  console.log(
    `account ${x.accountId}: ${v.chain.count} entries, head #${v.chain.headSeq} ${v.chain.head.slice(0, 16)}…`,
  );
  if (v.checkpoint) {
    console.log(
      `checkpoint #${v.checkpoint.id}: signature ${v.checkpoint.signature ? "ok" : "BAD"}, key ${v.checkpoint.pinnedKey === null ? "not pinned (pass --public-key)" : v.checkpoint.pinnedKey ? "trusted" : "UNTRUSTED"}, inclusion ${v.checkpoint.included ? "ok" : "BAD"}, head ${v.checkpoint.matchesChain ? "matches" : "DOES NOT MATCH"}`,
    );
  } else console.log("checkpoint: none yet covers this account");
  for (const p of v.problems) console.log(`✗ ${p}`);
  console.log(v.verified ? "✓ verified" : "✗ does NOT verify");
  if (!v.verified) process.exitCode = 1;
}
