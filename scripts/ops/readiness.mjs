// GET /v1/compliance/launch-readiness; exits 1 when any check fails.
export const summary = "launch readiness checks (pass/warn/fail); exit 1 if not ready";

export async function run(args, ctx) {
  const r = await ctx.admin("GET", "/v1/compliance/launch-readiness");
  if (args.includes("--json")) ctx.print(r);
  else {
    for (const c of r.checks) console.log(`${c.status.padEnd(4)}  ${c.name.padEnd(16)} ${c.reason}`);
    console.log(r.ready ? "READY" : `NOT READY (${r.summary.fail} failing)`);
  }
  if (!r.ready) process.exitCode = 1;
}
