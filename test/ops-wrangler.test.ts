// `npm run ops` (scripts/ops/_wrangler.mjs): the wrangler argv each target builds.
// --remote must name the production environment: wrangler.toml's top level is
// development, and a remote command without --env would use its bindings.
import { describe, expect, it } from "vitest";
import { d1ExecuteArgs, parseTarget, targetFlags } from "../scripts/ops/_wrangler.mjs";
import wranglerToml from "../wrangler.toml?raw";

const SQL = "SELECT 1";

describe("ops: wrangler argv", () => {
  it("--remote targets [env.production] by default", () => {
    const { target, args } = parseTarget(["dlq", "--remote", "--all"]);
    expect(args).toEqual(["dlq", "--all"]);
    expect(target).toEqual({ remote: true, env: "production", persistTo: null });
    expect(d1ExecuteArgs(target, SQL)).toEqual([
      "d1",
      "execute",
      "DB",
      "--remote",
      "--env",
      "production",
      "--json",
      "--command",
      SQL,
    ]);
  });

  it("--env NAME picks another environment, before or after --remote", () => {
    for (const argv of [
      ["--env", "staging", "--remote", "x"],
      ["x", "--remote", "--env", "staging"],
    ]) {
      const { target, args } = parseTarget(argv);
      expect(args).toEqual(["x"]);
      expect(targetFlags(target)).toEqual(["--remote", "--env", "staging"]);
    }
  });

  it("local: the top-level (development) config and `wrangler dev`'s state, or --persist-to's", () => {
    expect(d1ExecuteArgs(parseTarget([]).target, SQL)).toEqual([
      "d1",
      "execute",
      "DB",
      "--local",
      "--json",
      "--command",
      SQL,
    ]);
    const chain = parseTarget(["dlq", "--persist-to", ".wrangler/chain-state"]);
    expect(chain.args).toEqual(["dlq"]);
    expect(targetFlags(chain.target)).toEqual(["--local", "--persist-to", ".wrangler/chain-state"]);
    // `npm run start:production` runs the production config locally.
    expect(targetFlags(parseTarget(["--env", "production"]).target)).toEqual(["--local", "--env", "production"]);
  });

  it("refuses a flag without its value, and local state with --remote", () => {
    expect(() => parseTarget(["--env"])).toThrow("--env needs a value");
    expect(() => parseTarget(["--env", "--remote"])).toThrow("--env needs a value");
    expect(() => parseTarget(["--persist-to"])).toThrow("--persist-to needs a value");
    expect(() => parseTarget(["--remote", "--persist-to", "x"])).toThrow("cannot go with --remote");
  });

  it("the default remote environment exists in wrangler.toml with the DB binding", () => {
    const env = parseTarget(["--remote"]).target.env;
    expect(wranglerToml).toContain(`[env.${env}]`);
    expect(wranglerToml).toMatch(new RegExp(`\\[\\[env\\.${env}\\.d1_databases\\]\\]\\s*\\nbinding = "DB"`));
  });
});
