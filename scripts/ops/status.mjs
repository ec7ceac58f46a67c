// GET /v1/ops/status: queues, dead letters, indexer lag, activity, error rate, conservation.
export const summary = "queues, dead letters, indexer lag, accounts, messages, volume, error rate, conservation";

export async function run(args, ctx) {
  const s = await ctx.admin("GET", "/v1/ops/status");
  if (args.includes("--json")) return ctx.print(s);
  const h = s.activity.lastHour;
  const d = s.activity.lastDay;
  console.log(`${ctx.appUrl}  v${s.version}  mode ${s.mode}  at ${s.generatedAt}`);
  console.log(
    `accounts   ${s.accounts.total} (new: ${s.accounts.newLastHour} last hour, ${s.accounts.newLastDay} last day)`,
  );
  console.log(
    `messages   ${h.messages} last hour, ${d.messages} last day; volume ${h.volume} / ${d.volume} base units`,
  );
  console.log(
    `errors     5xx rate ${(h.errorRate * 100).toFixed(2)}% last hour (${h.errors5xx} 5xx, ${h.errors4xx} 4xx of ${h.requests})`,
  );
  console.log(`abuse      ${h.abuseRefused} first contacts slowed/refused last hour`);
  for (const q of s.queues) {
    console.log(
      `queue      ${q.name.padEnd(10)} backlog ${q.backlog?.messages ?? "?"} now (peak ${q.lastHour.peakBacklog} last hour), processed ${q.lastHour.processed}, retries ${q.lastHour.retries}, dead letters ${q.lastDay.deadLetters} (day), oldest consumed ${Math.round(q.lastHour.oldestMessageAgeMs / 1000)} s`,
    );
  }
  for (const b of s.backlogs.filter((b) => b.name.endsWith("-dlq"))) {
    console.log(`dlq        ${b.name.padEnd(15)} waiting ${b.messages ?? "? (no producer binding; see peak above)"}`);
  }
  console.log(
    `indexer    ${s.indexer.mode === "off" ? "chain mode off" : `checkpoint ${s.indexer.checkpointBlock}, head ${s.indexer.headBlock}, lag ${s.indexer.lagBlocks} blocks`}`,
  );
  console.log(`conserved  ${s.conservation.conserved} over ${s.conservation.accounts} accounts`);
  console.log(
    `audit      latest checkpoint ${s.audit.latestCheckpoint ? `#${s.audit.latestCheckpoint.id} at ${s.audit.latestCheckpoint.createdAt}` : "none yet"}`,
  );
  if (!s.conservation.conserved) process.exitCode = 1;
}
