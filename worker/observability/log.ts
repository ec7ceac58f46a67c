// Structured JSON logs and Analytics Engine metrics. One JSON object per line,
// so Workers Logs indexes every field. What may appear: request id, method,
// route PATTERN (never the raw path: `/v1/recipients/:selector` may carry a
// handle, queries may carry anything), status, latency, a hashed user id, error
// codes. What never appears: bodies, tokens, headers, emails, phone numbers —
// test/log-capture.ts checks every line the worker suite writes.
import { hash } from "node:crypto";

export type LogLevel = "info" | "warn" | "error";

/** Writes one structured log line. Keep fields to ids, codes and numbers. */
export function log(level: LogLevel, msg: string, fields: Record<string, string | number | boolean | null> = {}) {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * An error as it may appear in a log line: its name and the first line of its
 * message, at most 200 characters, with URLs, emails, phone numbers and tokens
 * replaced. Why: errors from fetch and viem quote the URL they called, and an
 * RPC URL carries its provider's API key in the path (…/v2/<key>); provider and
 * library messages may quote an address or a token we sent.
 */
export function errorSummary(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const first = (e.message.split("\n")[0] ?? "").slice(0, 200);
  const message = first
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi, "<url>")
    .replace(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, "<email>")
    .replace(/\+[1-9]\d{7,14}\b/g, "<phone>")
    .replace(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(\.[A-Za-z0-9_-]*)?/g, "<jwt>")
    .replace(/\bbearer\s+\S{8,}/gi, "Bearer <token>")
    .replace(/\bbot\d+:[\w-]+/g, "bot<token>"); // a Telegram bot token in an API URL path
  return `${e.name}: ${message}`;
}

/**
 * A user id, hashed for logs and metrics: stable (so one user's requests group
 * together) but not the id itself, so a log line cannot be joined to D1 rows
 * without the table of ids.
 */
export function hashUserId(userId: string): string {
  let h = hashed.get(userId);
  if (h === undefined) {
    // node:crypto's native SHA-256 (a pure-JS one measured ~40 µs a call in workerd), and once per user per isolate.
    h = hash("sha256", `paid-inbox/log:${userId}`, "hex").slice(0, 16);
    if (hashed.size >= HASHED_MAX) hashed.delete(hashed.keys().next().value as string);
    hashed.set(userId, h);
  }
  return h;
}
const hashed = new Map<string, string>();
const HASHED_MAX = 10_000;

/** Metric kinds written to the Analytics Engine dataset (blob1). */
export type MetricKind = "request" | "send" | "refund" | "queue_retry" | "queue_dead_letter" | "abuse_refused";

export interface Metric {
  kind: MetricKind;
  /** route pattern, queue name or reason code (blob2). */
  label?: string;
  /** HTTP status or 0 (double1). */
  status?: number;
  /** latency in ms (double2). */
  latencyMs?: number;
  /** money in USDC base units as a double (double3: fine for sums on dashboards; the ledger is exact). */
  amount?: bigint;
  /** platform revenue (fee) in base units (double4). */
  fee?: bigint;
  /** how many (double5), e.g. messages retried. */
  count?: number;
}

/**
 * One Analytics Engine data point. Writes are fire-and-forget and never throw
 * into the request (the binding is absent in some test setups and drops writes
 * under wrangler dev unless the dataset is marked remote).
 */
export function metric(env: { METRICS?: AnalyticsEngineDataset }, m: Metric): void {
  try {
    env.METRICS?.writeDataPoint({
      indexes: [m.kind],
      blobs: [m.kind, m.label ?? ""],
      doubles: [m.status ?? 0, m.latencyMs ?? 0, Number(m.amount ?? 0n), Number(m.fee ?? 0n), m.count ?? 1],
    });
  } catch (err) {
    log("warn", "metric write failed", { error: (err as Error).name });
  }
}
