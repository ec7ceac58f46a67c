// A disposable `wrangler dev` for benches, checks and the browser suite: its own
// state directory (on tmpfs when there is one, so local SQLite fsyncs do not
// dominate), D1 migrations applied to it first, the server started detached (its
// whole process group stops as one) and answered once GET /health is 200. Only
// the options differ between callers, never the way the server is started.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.mjs";

/** GET /health answers (`anyAnswer`: with any status, e.g. a deliberately misconfigured instance's 503). */
const up = (base, anyAnswer = false) =>
  fetch(`${base}/health`).then(
    (r) => anyAnswer || r.ok,
    () => false,
  );

/**
 * @param {object} [o]
 * @param {number | string} [o.port] default: a free port
 * @param {Record<string, string>} [o.vars] `--var NAME:value` each
 * @param {string[]} [o.args] more `wrangler dev` arguments
 * @param {string} [o.env] a wrangler.toml environment (`--env`), for the migrations too
 * @param {import("node:child_process").StdioOptions} [o.stdio] wrangler's output ("ignore")
 * @param {string} [o.cwd] the checkout to serve (bench baselines); wrangler comes from this one's node_modules
 * @param {string} [o.prefix] the state directory's name prefix
 * @param {number} [o.timeoutMs] how long it may take to answer /health (3 minutes: slow on a loaded machine)
 * @param {boolean} [o.anyAnswer] up once /health answers at all, not only 200
 * @returns {Promise<{ base: string, port: number, pid: number, state: string, stop: () => Promise<void> }>}
 */
export async function startWranglerDev({
  port,
  vars = {},
  args = [],
  env,
  stdio = "ignore",
  cwd = process.cwd(),
  prefix = "paid-inbox-dev-",
  timeoutMs = 180_000,
  anyAnswer = false,
} = {}) {
  const p = Number(port ?? (await freePort()));
  const base = `http://127.0.0.1:${p}`;
  if (await up(base)) throw new Error(`something already answers on port ${p}`);
  const wrangler = join(process.cwd(), "node_modules/.bin/wrangler");
  const envArgs = env ? ["--env", env] : [];
  const state = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), prefix));
  // CI=true: wrangler asks nothing interactively.
  const migrate = spawnSync(
    wrangler,
    ["d1", "migrations", "apply", "DB", "--local", ...envArgs, "--persist-to", state],
    {
      encoding: "utf8",
      cwd,
      env: { ...process.env, CI: "true" },
    },
  );
  if (migrate.status !== 0) {
    rmSync(state, { recursive: true, force: true });
    throw new Error(`D1 migrations failed:\n${migrate.stdout}${migrate.stderr}`);
  }
  const devArgs = ["dev", ...envArgs, "--ip", "127.0.0.1", "--port", String(p), "--persist-to", state];
  for (const [k, v] of Object.entries(vars)) devArgs.push("--var", `${k}:${v}`);
  const child = spawn(wrangler, [...devArgs, ...args], { stdio, detached: true, cwd });
  let exitCode = null;
  const exited = new Promise((r) =>
    child.once("exit", (code) => {
      exitCode = code ?? -1;
      r();
    }),
  );
  /** Stops the server's process group, waits for it, then removes its state (a failure to remove only warns). */
  const stop = async () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    try {
      rmSync(state, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch (err) {
      console.warn(`could not remove ${state}: ${err.message}`);
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await up(base, anyAnswer))) {
    if (exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(
        exitCode !== null
          ? `wrangler dev exited (${exitCode}) before answering`
          : `wrangler dev on ${p} did not come up`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { base, port: p, pid: child.pid, state, stop };
}
