// How `npm run ops` calls wrangler: the argv for each wrangler subcommand, kept
// apart from running it so test/ops-wrangler.test.ts can check it. Remote means
// the deployed environment — wrangler's top-level config is development, and
// without `--env` a remote command would use its bindings (the dev D1 id,
// queue and bucket names), not production's — so --remote adds `--env
// production` unless --env names another [env.*] section of wrangler.toml.
// Local reads the state `wrangler dev` wrote (.wrangler/state, or --persist-to
// for another one, e.g. `npm run dev:chain`'s .wrangler/chain-state).

/**
 * The ops target from the command line; answers it and the arguments left for the command.
 * `--remote`, `--env NAME` and `--persist-to DIR` are ops flags wherever they stand.
 * @param {string[]} argv
 * @returns {{ target: { remote: boolean, env: string | null, persistTo: string | null }, args: string[] }}
 */
export function parseTarget(argv) {
  const args = [];
  let remote = false;
  let env = null;
  let persistTo = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--remote") remote = true;
    else if (a === "--env" || a === "--persist-to") {
      const v = argv[++i];
      if (!v || v.startsWith("--")) throw new Error(`${a} needs a value`);
      if (a === "--env") env = v;
      else persistTo = v;
    } else args.push(a);
  }
  if (remote && persistTo) throw new Error("--persist-to is for local state; it cannot go with --remote");
  return { target: { remote, env: env ?? (remote ? "production" : null), persistTo }, args };
}

/** Where a wrangler command reads: `--remote --env …`, or `--local [--env …] [--persist-to …]`. */
export function targetFlags({ remote, env, persistTo }) {
  return [
    remote ? "--remote" : "--local",
    ...(env ? ["--env", env] : []),
    ...(!remote && persistTo ? ["--persist-to", persistTo] : []),
  ];
}

/** `wrangler d1 execute DB … --json --command SQL` against the target. */
export function d1ExecuteArgs(target, sql) {
  return ["d1", "execute", "DB", ...targetFlags(target), "--json", "--command", sql];
}
