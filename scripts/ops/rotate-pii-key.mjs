// Re-encrypts every stored phone number and email under the current PII key
// version, in batches through the app (only the Worker holds the keys). Run it
// after PII_KEY has the new key, PII_KEY_PREVIOUS the old one and
// PII_KEY_VERSION is bumped (docs/runbooks/key-rotation.md). Resumable: run it
// again after an interruption; rows already re-sealed are skipped.
export const summary = "re-encrypt PII under the new PII_KEY version (resumable; see docs/runbooks/key-rotation.md)";

export async function run(args, ctx) {
  const i = args.indexOf("--batch");
  const limit = i >= 0 ? Number(args[i + 1]) : 100;
  let total = 0;
  for (;;) {
    const r = await ctx.admin("POST", "/v1/ops/pii/reseal", { limit });
    total += r.resealed;
    console.log(`key v${r.keyVersion}: re-sealed ${r.resealed} (total ${total}), ${r.remaining} left`);
    if (r.done) break;
    if (r.resealed === 0) throw new Error("no progress: is PII_KEY_PREVIOUS set to the old key?");
  }
  console.log("✓ every row is sealed under the current key; PII_KEY_PREVIOUS can be removed");
}
