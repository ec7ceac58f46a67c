#!/usr/bin/env node
// `npm start`: everything the app needs locally, then `wrangler dev` bound to
// 127.0.0.1:${PORT:-8787}, announced as http://localhost:… (passkeys refuse IP
// addresses, so that is the URL to open). Safe to run again: each step is idempotent.
//   1. .dev.vars from .dev.vars.example, with fresh random secrets (only if missing)
//   2. the web UI built into frontend/dist
//   3. D1 migrations applied to the local database
import { spawn } from "node:child_process";
import { bin, prepareLocalApp } from "./local-app.mjs";

const port = process.env.PORT ?? "8787";
// `npm run start:production` passes `--env production`; the migrations go to that environment's database.
const envArg = process.argv.indexOf("--env");
prepareLocalApp({ env: envArg > 0 ? process.argv[envArg + 1] : undefined });
console.log(`• starting wrangler dev (bound to 127.0.0.1:${port})`);
console.log(`\n  Open http://localhost:${port}\n`);
const dev = spawn(bin("wrangler"), ["dev", "--ip", "127.0.0.1", "--port", port, ...process.argv.slice(2)], {
  stdio: "inherit",
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => dev.kill(sig));
dev.on("exit", (code) => process.exit(code ?? 0));
