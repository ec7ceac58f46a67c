// What every `npm run ops` command gets: where the app is, D1 access through
// wrangler (local state, or --remote: the production environment unless --env
// names another; argv in _wrangler.mjs), and admin HTTP calls. Never prints secrets.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { d1ExecuteArgs, parseTarget } from "./_wrangler.mjs";

function devVars() {
  if (!existsSync(".dev.vars")) return {};
  const out = {};
  for (const line of readFileSync(".dev.vars", "utf8").split("\n")) {
    const m = line.match(/^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return out;
}

export function opsContext(argv) {
  const { target, args } = parseTarget(argv);
  const { remote } = target;
  const vars = remote ? {} : devVars();
  const appUrl = (process.env.APP_URL ?? (remote ? "" : `http://127.0.0.1:${process.env.PORT ?? 8787}`)).replace(
    /\/$/,
    "",
  );
  const adminToken = process.env.ADMIN_TOKEN ?? vars.ADMIN_TOKEN;

  return {
    remote,
    target,
    args,
    appUrl,
    /** Runs SQL against D1 (local state, or --remote) and returns the rows of the last statement. */
    d1(sql) {
      const r = spawnSync("node_modules/.bin/wrangler", d1ExecuteArgs(target, sql), {
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
      });
      if (r.status !== 0) throw new Error(`wrangler d1 execute failed: ${(r.stderr || r.stdout).trim().slice(-500)}`);
      const parsed = JSON.parse(r.stdout);
      return parsed.at(-1)?.results ?? [];
    },
    /** Calls an admin route of the running app with ADMIN_TOKEN; answers the parsed JSON body. */
    async admin(method, path, body) {
      if (!appUrl) throw new Error("set APP_URL to the deployed app's origin");
      if (!adminToken) throw new Error("ADMIN_TOKEN is not set (in the environment or .dev.vars)");
      const res = await fetch(`${appUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      const json = text ? JSON.parse(text) : null;
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${json?.error ?? ""} ${json?.message ?? ""}`);
      return json;
    },
    /** Prints rows as JSON lines (machine-readable) or a value as indented JSON. */
    print(value) {
      console.log(JSON.stringify(value, null, 2));
    },
  };
}
