#!/usr/bin/env node
// Drop-in `solc` for Foundry, backed by the solc-js npm package (no native solc, no network).
//
// Forge calls it as `solc --version` and as
// `solc --standard-json [--base-path P] [--include-path P]... [--allow-paths a,b]` with the
// standard-JSON input on stdin. We answer the first like native solc and compile the second
// with solc-js, resolving any import forge did not inline against the base/include paths
// and the input's remappings.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const solc = require("solc");

const args = process.argv.slice(2);

if (args.includes("--version") || args.includes("-v")) {
  // Forge reads the last non-empty line, strips "Version: " and parses it as semver.
  const v = solc.version().replace(".Emscripten.clang", ".Linux.g++");
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${v}\n`);
  process.exit(0);
}

if (!args.includes("--standard-json")) {
  process.stderr.write("scripts/solc.mjs: only --version and --standard-json are supported\n");
  process.exit(1);
}

const roots = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--base-path" || a === "--include-path") roots.push(args[++i]);
  else if (a === "--allow-paths") roots.push(...args[++i].split(","));
  else if (a.startsWith("--base-path=") || a.startsWith("--include-path=")) roots.push(a.split("=")[1]);
}
roots.push(process.cwd());

const input = readFileSync(0, "utf8");
const remappings = (JSON.parse(input).settings?.remappings ?? []).map((r) => {
  const [prefix, target] = r.replace(/^[^:]*:/, "").split("=");
  return { prefix, target };
});

function findImports(importPath) {
  const candidates = [importPath];
  for (const { prefix, target } of remappings) {
    if (importPath.startsWith(prefix)) candidates.push(target + importPath.slice(prefix.length));
  }
  for (const c of candidates) {
    if (path.isAbsolute(c) && existsSync(c)) return { contents: readFileSync(c, "utf8") };
    for (const root of roots) {
      const p = path.resolve(root, c);
      if (existsSync(p)) return { contents: readFileSync(p, "utf8") };
    }
  }
  return { error: `File not found: ${importPath}` };
}

process.stdout.write(solc.compile(input, { import: findImports }));
