// Loads one of the Worker's TypeScript modules in Node (bundled on the fly with
// esbuild, which wrangler and drizzle-kit already install), so the offline tools
// use the very rules the Worker runs — e.g. the audit chain's hashing.
import { build } from "esbuild";

export async function loadTs(path) {
  const out = await build({
    entryPoints: [path],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    logLevel: "silent",
  });
  const code = out.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}
