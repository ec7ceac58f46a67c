// Loads one of the Worker's TypeScript modules in Node (bundled on the fly with
// esbuild, the version wrangler ships), so scripts use the very rules the Worker
// runs — the audit chain's hashing (ops audit-verify), the EIP-712 Payment type
// (chain:smoke, bench:chain). `path` is relative to the repository root.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export async function loadTs(path) {
  const out = await build({
    entryPoints: [fileURLToPath(new URL(`../${path}`, import.meta.url))],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    logLevel: "silent",
  });
  const code = out.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}
