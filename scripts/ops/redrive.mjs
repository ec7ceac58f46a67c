// Sends dead letters back to their queue once each: notification deliveries to
// `deliveries`, flush batches (channel `index`) to `index`, whose consumer
// archives each put-if-absent (a redriven letter is marked and not sent again;
// the (key, channel) claim stops a second notice regardless). Only a Worker can write to the queue,
// so this goes through the admin route of the running app (local, or --remote
// with APP_URL and ADMIN_TOKEN). `redrive 12 15` redrives only those ids.
export const summary = "re-send dead letters (deliveries, flush batches) once (optionally only the given ids)";

export async function run(args, ctx) {
  const ids = args.filter((a) => /^\d+$/.test(a)).map(Number);
  let total = 0;
  for (;;) {
    const { redriven } = await ctx.admin("POST", "/v1/ops/deliveries/redrive", ids.length ? { ids } : {});
    total += redriven;
    // The route takes 100 at a time; keep going until none are left (ids: one call).
    if (ids.length || redriven < 100) break;
  }
  ctx.print({ redriven: total });
}
