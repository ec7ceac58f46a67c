#!/usr/bin/env node
// `npm test`: every check and suite, then one line of totals over all of them:
// `N passed, N failed` (what CI reads). Each step's own output streams through.
//   checks  — tsc --noEmit, biome check, wrangler deploy --dry-run (bundle size),
//             the log scan of the worker suite, /docs in Chromium (each counts as one test)
//   worker  — vitest in workerd (@cloudflare/vitest-pool-workers)
//   forge   — contracts (npm run test:contracts), when contracts/ exists
//   chain   — deploy to a real anvil and pay through the vault (npm run chain:smoke)
//   prod    — a production-mode wrangler dev probed over HTTP (npm run smoke:production)
//   browser — Chromium against wrangler dev (npm run test:browser), when present
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";

const bin = (name) => `node_modules/.bin/${name}`;
const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const totals = { passed: 0, failed: 0 };
const summary = [];

function run(cmd, args, { capture = false, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ["ignore", capture ? "pipe" : "inherit", "inherit"],
      env: { ...process.env, ...env },
    });
    let out = "";
    if (capture) {
      child.stdout.on("data", (d) => {
        out += d;
        process.stdout.write(d);
      });
    }
    child.on("exit", (code) => resolve({ code: code ?? 1, out }));
  });
}

function record(name, passed, failed) {
  totals.passed += passed;
  totals.failed += failed;
  summary.push(`${name}: ${passed} passed, ${failed} failed`);
}

async function check(name, cmd, args) {
  const { code } = await run(cmd, args);
  record(name, code === 0 ? 1 : 0, code === 0 ? 0 : 1);
}

// Vitest: totals from its JSON report; a crash before the report counts as one failure.
async function vitest(name, config, reportFile) {
  mkdirSync(".test-results", { recursive: true });
  const { code } = await run(bin("vitest"), [
    "run",
    "--config",
    config,
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${reportFile}`,
  ]);
  if (!existsSync(reportFile)) return record(name, 0, 1);
  const r = JSON.parse(readFileSync(reportFile, "utf8"));
  const failed = r.numFailedTests + (code !== 0 && r.numFailedTests === 0 ? 1 : 0);
  record(name, r.numPassedTests, failed);
}

// Forge prints `Ran N test suites ...: X tests passed, Y failed, Z skipped` per invocation.
async function forge() {
  const { code, out } = await run("npm", ["run", "--silent", "test:contracts"], { capture: true });
  let passed = 0;
  let failed = 0;
  for (const m of out.matchAll(/(\d+) tests passed, (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  if (code !== 0 && failed === 0) failed = 1;
  record("forge", passed, failed);
}

const started = Date.now();
await check("build (vite)", bin("vite"), ["build", "--config", "frontend/vite.config.ts", "--logLevel", "warn"]);
await check("types (tsc)", bin("tsc"), ["--noEmit"]);
await check("lint+format (biome)", bin("biome"), ["check", "."]);
// The production build: wrangler deploy --dry-run, bundle size printed, fails over 3 MB gzipped.
await check("production build (wrangler deploy --dry-run)", "node", ["scripts/deploy-check.mjs"]);
await vitest("worker (vitest-pool-workers)", "vitest.config.ts", ".test-results/worker.json");
// No email, phone number or token in any log line the worker suite wrote.
await check("log scan (worker suite)", "node", ["scripts/log-scan.mjs"]);
// /docs: Scalar's reference renders in Chromium from local assets under its CSP, nothing external.
await check("API reference /docs (chromium)", "node", ["scripts/docs-check.mjs"]);
if (pkg.scripts["test:contracts"]) await forge();
// Real anvil: deploy, sign a payment with viem, settle it, read the receipts back.
if (pkg.scripts["chain:smoke"]) await check("chain smoke (anvil + viem)", "node", ["scripts/chain-smoke.mjs"]);
// A production-mode instance (wrangler dev --env production): no faucet, no dev routes, production limits.
if (pkg.scripts["smoke:production"]) {
  await check("production mode (wrangler dev --env production)", "node", ["scripts/production-smoke.mjs"]);
}
if (pkg.scripts["test:browser"] && existsSync("vitest.browser.config.ts")) {
  await vitest("browser (chromium)", "vitest.browser.config.ts", ".test-results/browser.json");
}

console.log(`\n── test summary (${((Date.now() - started) / 1000).toFixed(0)}s) ──`);
for (const line of summary) console.log(`  ${line}`);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed === 0 ? 0 : 1);
