// What `npm start` and `npm run dev:chain` do before `wrangler dev`, in order;
// each step is idempotent and prints one line. A failing step ends the process
// with its exit code (its own output already says why).
import { spawnSync } from "node:child_process";
import { ensureDevVars } from "./dev-vars.mjs";

export const bin = (name) => `node_modules/.bin/${name}`;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`✗ ${cmd} ${args.join(" ")} failed`);
    process.exit(r.status ?? 1);
  }
}

/**
 * .dev.vars (fresh random secrets, only if missing), the web UI into frontend/dist, and the
 * D1 migrations applied locally — to `persistTo` and/or a wrangler.toml environment when given.
 */
export function prepareLocalApp({ persistTo, env } = {}) {
  if (ensureDevVars()) console.log("• created .dev.vars with fresh random secrets");
  console.log("• building the web UI");
  run(bin("vite"), ["build", "--config", "frontend/vite.config.ts", "--logLevel", "warn"]);
  console.log(`• applying D1 migrations (local${persistTo ? `, ${persistTo}` : ""}${env ? `, --env ${env}` : ""})`);
  run(bin("wrangler"), [
    "d1",
    "migrations",
    "apply",
    "DB",
    "--local",
    ...(env ? ["--env", env] : []),
    ...(persistTo ? ["--persist-to", persistTo] : []),
  ]);
}
