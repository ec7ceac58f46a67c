#!/usr/bin/env node
// CI proof of the production build (a step of `npm test`): `wrangler deploy
// --dry-run` bundles the Worker exactly as a deploy would (with
// `--env production` when wrangler.toml defines it), prints the bundle size and
// fails if it is over 3 MB gzipped (the Workers Free limit; paid plans allow 10)
// or if wrangler warns about the configuration.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const LIMIT_KIB = 3 * 1024;
const production = /^\[env\.production\]/m.test(readFileSync("wrangler.toml", "utf8"));
const args = ["deploy", "--dry-run", "--outdir", ".wrangler/dry-run", ...(production ? ["--env", "production"] : [])];
const r = spawnSync("node_modules/.bin/wrangler", args, { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
const out = `${r.stdout}\n${r.stderr}`;
const size = out.match(/Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/);
if (r.status !== 0 || !size) {
  console.error(out.trim().split("\n").slice(-30).join("\n"));
  console.error(`✗ wrangler deploy --dry-run failed (exit ${r.status})`);
  process.exit(1);
}
const [, total, gzip] = size.map(Number);
console.log(
  `production build${production ? " (--env production)" : ""}: ${total.toFixed(0)} KiB, ${gzip.toFixed(0)} KiB gzipped (limit ${LIMIT_KIB} KiB)`,
);
const warnings = out
  .split("\n")
  .filter((l) => /Unexpected fields|is not a valid|Processing wrangler.toml configuration:/i.test(l));
if (warnings.length) {
  console.error(`✗ wrangler warns about the configuration:\n${warnings.join("\n")}`);
  process.exit(1);
}
if (gzip > LIMIT_KIB) {
  console.error(`✗ the Worker bundle is ${gzip.toFixed(0)} KiB gzipped, over ${LIMIT_KIB} KiB`);
  process.exit(1);
}
