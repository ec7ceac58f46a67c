// The `deliveries` queue consumer and its dead-letter consumer.
//
// notify job (from an Account flush) → one task per connected channel whose
// minPrice the messages reach → each tried once inline; a retryable failure
// becomes a `deliver` job for that channel alone, queued with backoff. A deliver
// job retries itself with `retry({delaySeconds})` until the queue's max_retries,
// after which the queue moves it to `deliveries-dlq`, whose consumer records the
// dead letter. Every task first claims (key, channel) in D1, so a redelivered
// queue message, or a notify job and its own retry racing, notify at most once.
// D1 work is batched per queue batch: one read of the channels, one claim batch,
// one results batch — the consumer must stay cheap while a provider is down.
import { retryDelay } from "../domain/backoff";
import type { ChannelName, DeliveryJob, NotifyItem } from "../domain/delivery-job";
import { errorSummary } from "../observability/log";
import { INDEX_CHANNEL } from "../queues/index-dead-letters";
import type { ChannelRow } from "./channels";
import { revokeChannel } from "./channels";
import { notifyConfig } from "./config";
import { type Attempted, deliver, inboxUrl } from "./deliver";
import { notificationKey } from "./jobs";

interface Task {
  msgIndex: number;
  row: ChannelRow;
  key: string;
  items: NotifyItem[];
  test: boolean;
  redrive: boolean;
  /** Attempt number of this try (1 = first). */
  attempt: number;
  result?: Attempted;
  /** Not claimed because another claim on it is in flight: look again later. */
  busy?: boolean;
}

/** Test seam (like the Account's `faults`): null in production. */
export const consumerGate: { hold: Promise<void> | null } = { hold: null };

/** A claim older than this is a consumer that died mid-delivery; it may be taken over. */
const STALE_CLAIM_MS = 60_000;
const MAX_PARAMS = 90;

async function loadChannels(env: Env, userIds: string[]): Promise<Map<string, ChannelRow[]>> {
  const out = new Map<string, ChannelRow[]>();
  for (let i = 0; i < userIds.length; i += MAX_PARAMS) {
    const chunk = userIds.slice(i, i + MAX_PARAMS);
    const { results } = await env.DB.prepare(
      `SELECT * FROM channels WHERE status = 'connected' AND user_id IN (${chunk.map(() => "?").join(", ")})`,
    )
      .bind(...chunk)
      .all<Record<string, unknown>>();
    for (const r of results) {
      const row = fromSql(r);
      out.set(row.userId, [...(out.get(row.userId) ?? []), row]);
    }
  }
  return out;
}

function fromSql(r: Record<string, unknown>): ChannelRow {
  return {
    userId: r.user_id as string,
    channel: r.channel as ChannelName,
    status: r.status as ChannelRow["status"],
    consentVersion: r.consent_version as string,
    consentAt: r.consent_at as number,
    connectedAt: r.connected_at as number | null,
    includeBody: r.include_body === 1 || r.include_body === true,
    minPrice: r.min_price as string,
    ciphertext: r.ciphertext as string | null,
    iv: r.iv as string | null,
    keyVersion: r.key_version as number | null,
    subjectIndex: r.subject_index as string | null,
    connectTokenHash: r.connect_token_hash as string | null,
    connectExpiresAt: r.connect_expires_at as number | null,
    lastDeliveredAt: r.last_delivered_at as number | null,
    lastError: r.last_error as string | null,
    lastErrorAt: r.last_error_at as number | null,
    updatedAt: r.updated_at as number,
  };
}

/** Rows per multi-row statement, under D1's 100 bound parameters (`columns` parameters a row). */
function chunks<T>(rows: T[], columns: number, per = Math.floor(MAX_PARAMS / columns)): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += per) out.push(rows.slice(i, i + per));
  return out;
}

const tuples = (n: number, columns: number) =>
  Array(n)
    .fill(`(${Array(columns).fill("?").join(", ")})`)
    .join(", ");

/**
 * Claims each task's (key, channel) with multi-row conditional upserts; tasks
 * already delivered, failed for good or in flight elsewhere drop out. (Few
 * statements per queue batch: local D1 shares the process with the send path.)
 */
async function claim(env: Env, tasks: Task[], now: number): Promise<Task[]> {
  if (tasks.length === 0) return [];
  // 12 rows × 6 parameters, plus the stale bound and up to 12 redrive keys, stay under 100.
  const stmts = chunks(tasks, 6, 12).map((chunk) => {
    const redrives = chunk.filter((t) => t.redrive).map((t) => `${t.key} ${t.row.channel}`);
    return env.DB.prepare(
      `INSERT INTO deliveries (key, channel, user_id, claimed_at, created_at, updated_at, state, attempts)
       VALUES ${Array(chunk.length).fill("(?, ?, ?, ?, ?, ?, 'sending', 1)").join(", ")}
       ON CONFLICT (key, channel) DO UPDATE SET state = 'sending', attempts = deliveries.attempts + 1,
         claimed_at = excluded.claimed_at, updated_at = excluded.updated_at
       WHERE deliveries.state = 'retry' OR (deliveries.state = 'sending' AND deliveries.claimed_at < ?)
         OR (deliveries.state = 'dead' AND deliveries.key || ' ' || deliveries.channel IN (${redrives.map(() => "?").join(", ") || "NULL"}))
       RETURNING key, channel`,
    ).bind(
      ...chunk.flatMap((t) => [t.key, t.row.channel, t.row.userId, now, now, now]),
      now - STALE_CLAIM_MS,
      ...redrives,
    );
  });
  const results = await env.DB.batch<{ key: string; channel: string }>(stmts);
  const won = new Set(results.flatMap((r) => r.results.map((x) => `${x.key} ${x.channel}`)));
  const lost = tasks.filter((t) => !won.has(`${t.key} ${t.row.channel}`));
  // Lost to a claim still in flight (another consumer, or one that died within the last minute):
  // that message must come back later, or a crash there would lose the notice.
  if (lost.length) {
    const busy = await env.DB.batch<{ k: string }>(
      chunks(lost, 2).map((chunk) =>
        env.DB.prepare(
          `SELECT key || ' ' || channel AS k FROM deliveries WHERE state = 'sending' AND (key, channel) IN (VALUES ${tuples(chunk.length, 2)})`,
        ).bind(...chunk.flatMap((t) => [t.key, t.row.channel])),
      ),
    );
    const inFlight = new Set(busy.flatMap((r) => r.results.map((x) => x.k)));
    for (const t of lost) if (inFlight.has(`${t.key} ${t.row.channel}`)) t.busy = true;
  }
  return tasks.filter((t) => won.has(`${t.key} ${t.row.channel}`));
}

async function attachBodies(env: Env, tasks: Task[]): Promise<Map<Task, Map<string, string>>> {
  const out = new Map<Task, Map<string, string>>();
  await Promise.all(
    tasks
      .filter((t) => t.row.includeBody && !t.test)
      .map(async (t) => {
        try {
          const bodies = await env.ACCOUNT.getByName(t.row.userId).messageBodies(t.items.map((i) => i.messageId));
          out.set(t, new Map(Object.entries(bodies)));
        } catch {
          out.set(t, new Map()); // the notice still goes out, without text
        }
      }),
  );
  return out;
}

async function record(env: Env, tasks: Task[], now: number): Promise<void> {
  const stmts: D1PreparedStatement[] = [];
  const results = tasks.map((t) => ({ t, r: t.result as Attempted }));
  // Every attempt, one multi-row insert per ≤ 10.
  for (const chunk of chunks(results, 9)) {
    stmts.push(
      env.DB.prepare(
        `INSERT INTO delivery_attempts (key, channel, user_id, attempt, outcome, provider_code, provider_message_id,
           latency_ms, created_at) VALUES ${tuples(chunk.length, 9)}`,
      ).bind(
        ...chunk.flatMap(({ t, r }) => [
          t.key,
          t.row.channel,
          t.row.userId,
          t.attempt,
          r.ok ? "delivered" : r.kind,
          r.code,
          r.ok ? (r.providerMessageId ?? null) : null,
          r.latencyMs,
          now,
        ]),
      ),
    );
  }
  // Claim states and channel health, one statement per distinct value.
  const group = <K extends string>(keyOf: (x: (typeof results)[number]) => K) => {
    const m = new Map<K, typeof results>();
    for (const x of results) m.set(keyOf(x), [...(m.get(keyOf(x)) ?? []), x]);
    return m;
  };
  for (const [state, xs] of group(({ r }) => (r.ok ? "delivered" : r.kind === "retry" ? "retry" : "failed"))) {
    for (const chunk of chunks(xs, 2)) {
      stmts.push(
        env.DB.prepare(
          `UPDATE deliveries SET state = ?, updated_at = ? WHERE (key, channel) IN (VALUES ${tuples(chunk.length, 2)})`,
        ).bind(state, now, ...chunk.flatMap(({ t }) => [t.key, t.row.channel])),
      );
    }
  }
  for (const [error, xs] of group(({ r }) => (r.ok ? "" : r.error))) {
    for (const chunk of chunks(xs, 2)) {
      const where = `(user_id, channel) IN (VALUES ${tuples(chunk.length, 2)})`;
      const pairs = chunk.flatMap(({ t }) => [t.row.userId, t.row.channel]);
      stmts.push(
        error === ""
          ? env.DB.prepare(`UPDATE channels SET last_delivered_at = ? WHERE ${where}`).bind(now, ...pairs)
          : env.DB.prepare(`UPDATE channels SET last_error = ?, last_error_at = ? WHERE ${where}`).bind(
              error,
              now,
              ...pairs,
            ),
      );
    }
  }
  if (stmts.length) await env.DB.batch(stmts);
  // One log line per batch, codes and reasons only: never a target, token or body.
  const failures = new Map<string, number>();
  for (const t of tasks) {
    const r = t.result as Attempted;
    if (r.ok) continue;
    const k = `${t.row.channel} ${r.kind} ${r.code} ${r.error}`;
    failures.set(k, (failures.get(k) ?? 0) + 1);
    if (r.kind === "revoked") await revokeChannel(env, t.row.userId, t.row.channel, r.error);
  }
  if (failures.size) {
    console.warn(
      `deliveries: ${tasks.length - [...failures.values()].reduce((a, b) => a + b, 0)} delivered; failed: ${[...failures].map(([k, n]) => `${k} ×${n}`).join(", ")}`,
    );
  }
}

export async function consumeDeliveries(batch: MessageBatch<DeliveryJob>, env: Env): Promise<void> {
  // Test-only: a held gate stands for a stopped consumer (messages wait in the queue, no attempt used).
  if (consumerGate.hold) await consumerGate.hold;
  const nc = notifyConfig(env);
  const now = Date.now();
  const jobs = batch.messages.map((m) => m.body);
  const byUser = await loadChannels(env, [...new Set(jobs.map((j) => j.recipientId))]);
  const url = inboxUrl(env);

  const tasks: Task[] = [];
  for (const [msgIndex, job] of jobs.entries()) {
    const rows = byUser.get(job.recipientId) ?? [];
    if (job.kind === "notify") {
      for (const row of rows) {
        const items = job.items.filter((i) => BigInt(i.price) >= BigInt(row.minPrice));
        if (items.length === 0) continue;
        tasks.push({
          msgIndex,
          row,
          key: await notificationKey(items),
          items,
          test: false,
          redrive: false,
          attempt: 1,
        });
      }
    } else {
      // A channel disconnected meanwhile simply gets nothing.
      const row = rows.find((r) => r.channel === job.channel);
      if (!row) continue;
      tasks.push({
        msgIndex,
        row,
        key: job.key,
        items: job.items,
        test: job.test === true,
        redrive: job.redrive === true,
        attempt: job.prior + batch.messages[msgIndex].attempts,
      });
    }
  }

  const claimed = await claim(env, tasks, now);
  const bodies = await attachBodies(env, claimed);
  await Promise.all(
    claimed.map(async (t) => {
      t.result = await deliver(env, t.row, {
        key: t.key,
        recipientId: t.row.userId,
        items: t.items,
        bodies: t.row.includeBody ? (bodies.get(t) ?? new Map()) : null,
        test: t.test,
        inboxUrl: url,
      });
    }),
  );
  await record(env, claimed, Date.now());

  // Ack or retry each queue message by what its tasks came to.
  for (const [i, msg] of batch.messages.entries()) {
    const job = jobs[i];
    const retries = claimed.filter((t) => t.msgIndex === i && t.result && !t.result.ok && t.result.kind === "retry");
    if (tasks.some((t) => t.msgIndex === i && t.busy)) {
      // Whatever this message's other channels came to is recorded; a redelivery skips them.
      msg.retry({ delaySeconds: STALE_CLAIM_MS / 1000 });
      continue;
    }
    if (retries.length === 0) {
      msg.ack();
      continue;
    }
    const delay = (t: Task) => {
      const r = t.result as Extract<Attempted, { kind: "retry" }>;
      return retryDelay(t.attempt, nc.backoffBaseSeconds, nc.backoffMaxSeconds, r.retryAfter);
    };
    if (job.kind === "deliver") {
      msg.retry({ delaySeconds: delay(retries[0]) });
      continue;
    }
    // The fan-out's failed channels continue as their own jobs, each with its own backoff.
    try {
      await env.DELIVERIES.sendBatch(
        retries.map((t) => ({
          body: {
            kind: "deliver",
            recipientId: job.recipientId,
            channel: t.row.channel,
            key: t.key,
            items: t.items,
            prior: t.attempt,
          } satisfies DeliveryJob,
          contentType: "json" as const,
          delaySeconds: delay(t),
        })),
      );
      msg.ack();
    } catch (err) {
      // The claims say 'retry', so the redelivered notify job picks up exactly these channels again.
      console.warn(`deliveries fan-out requeue failed: ${errorSummary(err)}`);
      msg.retry({ delaySeconds: nc.backoffBaseSeconds });
    }
  }
}

/** `deliveries-dlq`: jobs that used up their retries become dead letters (listed and redriven by ops). */
export async function consumeDeadLetters(batch: MessageBatch<DeliveryJob>, env: Env): Promise<void> {
  const now = Date.now();
  const stmts: D1PreparedStatement[] = [];
  for (const msg of batch.messages) {
    const job = msg.body;
    const channel = job.kind === "deliver" ? job.channel : "*";
    const key = job.kind === "deliver" ? job.key : await notificationKey(job.items);
    stmts.push(
      env.DB.prepare(
        `INSERT INTO dead_letters (key, channel, user_id, job, last_error, created_at)
         VALUES (?1, ?2, ?3, ?4, (SELECT outcome || ' ' || provider_code FROM delivery_attempts
                                  WHERE key = ?1 AND channel = ?2 ORDER BY id DESC LIMIT 1), ?5)
         ON CONFLICT (key, channel) DO UPDATE SET job = excluded.job, last_error = excluded.last_error,
           created_at = excluded.created_at, redriven_at = NULL`,
      ).bind(key, channel, job.recipientId, JSON.stringify(job), now),
      env.DB.prepare(
        "UPDATE deliveries SET state = 'dead', updated_at = ? WHERE key = ? AND channel = ? AND state != 'delivered'",
      ).bind(now, key, channel),
    );
  }
  await env.DB.batch(stmts);
  batch.ackAll();
}

export interface DeadLetter {
  id: number;
  key: string;
  channel: string;
  userId: string;
  lastError: string | null;
  createdAt: string;
  redrivenAt: string | null;
}

export async function listDeadLetters(env: Env, limit = 100): Promise<DeadLetter[]> {
  const { results } = await env.DB.prepare(
    "SELECT id, key, channel, user_id, last_error, created_at, redriven_at FROM dead_letters ORDER BY id DESC LIMIT ?",
  )
    .bind(limit)
    .all<Record<string, unknown>>();
  return results.map((r) => ({
    id: r.id as number,
    key: r.key as string,
    channel: r.channel as string,
    userId: r.user_id as string,
    lastError: r.last_error as string | null,
    createdAt: new Date(r.created_at as number).toISOString(),
    redrivenAt: r.redriven_at === null ? null : new Date(r.redriven_at as number).toISOString(),
  }));
}

/**
 * Sends dead letters not yet redriven back to the queue they came from, once:
 * each is marked before it is sent (and unmarked if its send fails), so two
 * redrives never send one twice; the (key, channel) claim stops a double notice
 * regardless. A flush batch (channel `index`) goes to the `index` queue, whose
 * consumer archives it put-if-absent; a delivery goes to `deliveries`.
 */
export async function redriveDeadLetters(env: Env, ids: number[] | null): Promise<number> {
  const now = Date.now();
  const filter = ids?.length ? `AND id IN (${ids.map(() => "?").join(", ")})` : "";
  const { results } = await env.DB.prepare(
    `UPDATE dead_letters SET redriven_at = ? WHERE id IN
       (SELECT id FROM dead_letters WHERE redriven_at IS NULL ${filter} ORDER BY id LIMIT 100)
     RETURNING id, channel, job`,
  )
    .bind(now, ...(ids ?? []))
    .all<{ id: number; channel: string; job: string }>();
  if (results.length === 0) return 0;
  const byQueue: [Queue, typeof results][] = [
    [env.INDEX, results.filter((r) => r.channel === INDEX_CHANNEL)],
    [env.DELIVERIES, results.filter((r) => r.channel !== INDEX_CHANNEL)],
  ];
  const sent = await Promise.allSettled(
    byQueue.map(([queue, rows]) =>
      rows.length ? queue.sendBatch(rows.map((r) => ({ body: redriven(r), contentType: "json" as const }))) : null,
    ),
  );
  const failed = byQueue.flatMap(([, rows], i) => (sent[i].status === "rejected" ? rows.map((r) => r.id) : []));
  if (failed.length) {
    await env.DB.prepare(
      `UPDATE dead_letters SET redriven_at = NULL WHERE redriven_at = ? AND id IN (${failed.map(() => "?").join(", ")})`,
    )
      .bind(now, ...failed)
      .run();
    throw (sent.find((s) => s.status === "rejected") as PromiseRejectedResult).reason;
  }
  return results.length;
}

/** The queue message of a dead letter: a flush batch as it was, a delivery marked as a redrive. */
function redriven(r: { channel: string; job: string }): unknown {
  if (r.channel === INDEX_CHANNEL) return JSON.parse(r.job);
  const job = JSON.parse(r.job) as DeliveryJob;
  return job.kind === "deliver" ? { ...job, redrive: true } : job;
}
