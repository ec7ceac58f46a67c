// Notification deliveries and Account flush batches that used up their retries
// (the dead_letters table, written by the deliveries-dlq and index-dlq
// consumers; a flush batch has channel `index` and its R2 archive key), newest
// first, read from D1 through wrangler (local state, or --remote). No message
// bodies or targets are stored there.
export const summary =
  "list dead-lettered notification deliveries and flush batches (channel index) (--all includes redriven ones)";

export async function run(args, ctx) {
  const all = args.includes("--all");
  const rows = ctx.d1(
    `SELECT id, channel, user_id, key, last_error, created_at, redriven_at FROM dead_letters
     ${all ? "" : "WHERE redriven_at IS NULL"} ORDER BY id DESC LIMIT 200`,
  );
  ctx.print(
    rows.map((r) => ({
      id: r.id,
      channel: r.channel,
      userId: r.user_id,
      key: r.key,
      lastError: r.last_error,
      createdAt: new Date(r.created_at).toISOString(),
      redrivenAt: r.redriven_at ? new Date(r.redriven_at).toISOString() : null,
    })),
  );
  if (!all) console.error(`${rows.length} dead letter(s) waiting; \`npm run ops -- redrive\` sends them again once.`);
}
