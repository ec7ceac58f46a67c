// Token bucket as a pure function: the caller stores {tokens, at}.
export interface Bucket {
  tokens: number;
  at: number;
}

export interface BucketLimit {
  /** Tokens refilled per minute (the sustained rate). */
  perMinute: number;
  /** Bucket size (the burst). */
  burst: number;
}

export type TakeResult = { ok: true; bucket: Bucket } | { ok: false; retryAfterSeconds: number };

export function take(bucket: Bucket | null, limit: BucketLimit, now: number): TakeResult {
  const perMs = limit.perMinute / 60_000;
  const start = bucket ?? { tokens: limit.burst, at: now };
  const tokens = Math.min(limit.burst, start.tokens + Math.max(0, now - start.at) * perMs);
  if (tokens >= 1) return { ok: true, bucket: { tokens: tokens - 1, at: now } };
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
}

/**
 * Returns a token taken for an attempt that did not go through (refilled up to
 * now, capped at the burst), so failed attempts never use up capacity.
 */
export function giveBack(bucket: Bucket | null, limit: BucketLimit, now: number): Bucket | null {
  if (bucket === null) return null;
  const perMs = limit.perMinute / 60_000;
  return { tokens: Math.min(limit.burst, bucket.tokens + Math.max(0, now - bucket.at) * perMs + 1), at: now };
}
