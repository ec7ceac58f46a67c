#!/usr/bin/env node
// `npm start`: everything the app needs locally, then `wrangler dev` bound to
// 127.0.0.1:${PORT:-8787}, announced as http://localhost:… (passkeys refuse IP
// addresses, so that is the URL to open). Safe to run again: each step is idempotent.
//   1. .dev.vars from .dev.vars.example, with fresh random secrets (only if missing)
//   2. the web UI built into frontend/dist
//   3. D1 migrations applied to the local database
import { spawn, spawnSync } from "node:child_process";
import { ensureDevVars } from "./dev-vars.mjs";

const port = process.env.PORT ?? "8787";
const bin = (name) => `node_modules/.bin/${name}`;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`✗ ${cmd} ${args.join(" ")} failed`);
    process.exit(r.status ?? 1);
  }
}

if (ensureDevVars()) console.log("• created .dev.vars with fresh random secrets");
console.log("• building the web UI");
run(bin("vite"), ["build", "--config", "frontend/vite.config.ts", "--logLevel", "warn"]);
console.log("• applying D1 migrations (local)");
// `npm run start:production` passes `--env production`; the migrations go to that environment's database.
const envArg = process.argv.indexOf("--env");
run(bin("wrangler"), [
  "d1",
  "migrations",
  "apply",
  "DB",
  "--local",
  ...(envArg > 0 ? process.argv.slice(envArg, envArg + 2) : []),
]);
console.log(`• starting wrangler dev (bound to 127.0.0.1:${port})`);
console.log(`\n  Open http://localhost:${port}\n`);
const dev = spawn(bin("wrangler"), ["dev", "--ip", "127.0.0.1", "--port", port, ...process.argv.slice(2)], {
  stdio: "inherit",
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => dev.kill(sig));
dev.on("exit", (code) => process.exit(code ?? 0));
