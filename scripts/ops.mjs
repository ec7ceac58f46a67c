#!/usr/bin/env node
// `npm run ops -- <command> [args]`: operating Paid Inbox from the command line.
// Each command is one module in scripts/ops/<command>.mjs exporting
//   export const summary = "one line for --help";
//   export async function run(args, ctx) { … }
// `ctx` (scripts/ops/context.mjs) reaches the local app (after `npm start`) or,
// with --remote, the deployed one: D1 through `wrangler d1 execute` (of the
// production environment, or --env NAME), admin routes over HTTP with ADMIN_TOKEN.
import { readdirSync } from "node:fs";
import { opsContext } from "./ops/context.mjs";

const dir = new URL("./ops/", import.meta.url);
const commands = readdirSync(dir)
  .filter((f) => f.endsWith(".mjs") && f !== "context.mjs" && !f.startsWith("_"))
  .map((f) => f.slice(0, -4))
  .sort();

const [name, ...rest] = process.argv.slice(2);
if (!name || name === "--help" || name === "help" || !commands.includes(name)) {
  if (name && !["--help", "help"].includes(name)) console.error(`unknown command: ${name}\n`);
  console.log("usage: npm run ops -- <command> [--remote] [--env NAME] [--persist-to DIR] [args]\n\ncommands:");
  for (const c of commands) {
    const mod = await import(new URL(`${c}.mjs`, dir));
    console.log(`  ${c.padEnd(18)} ${mod.summary ?? ""}`);
  }
  console.log(
    "\nLocal by default: the app from `npm start` (APP_URL, or http://127.0.0.1:$PORT, 8787 unset) and its" +
      "\nlocal D1 (.wrangler/state; --persist-to DIR for another, e.g. .wrangler/chain-state of dev:chain)." +
      "\n--remote: the deployed Worker (APP_URL and ADMIN_TOKEN from the environment) and its remote D1," +
      "\nin wrangler.toml's [env.production] (--env NAME for another environment).",
  );
  process.exit(name && !["--help", "help"].includes(name) ? 2 : 0);
}

const mod = await import(new URL(`${name}.mjs`, dir));
try {
  const ctx = opsContext(rest);
  await mod.run(ctx.args, ctx);
} catch (err) {
  console.error(`✗ ${name}: ${err.message}`);
  process.exit(1);
}
