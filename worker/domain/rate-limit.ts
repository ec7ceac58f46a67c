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

/** Whether a token is there now, without taking it. */
export function check(
  bucket: Bucket | null,
  limit: BucketLimit,
  now: number,
): { ok: true } | { ok: false; retryAfterSeconds: number } {
  const r = take(bucket, limit, now);
  return r.ok ? { ok: true } : r;
}

/**
 * Takes a token for something that already happened (a paid send), after a
 * check() before it. Concurrent sends that all passed the check may take the
 * bucket below zero; later ones then wait the debt out. So capacity is only
 * ever used by paid sends, never by attempts that failed.
 */
export function spend(bucket: Bucket | null, limit: BucketLimit, now: number): Bucket {
  const perMs = limit.perMinute / 60_000;
  const start = bucket ?? { tokens: limit.burst, at: now };
  return { tokens: Math.min(limit.burst, start.tokens + Math.max(0, now - start.at) * perMs) - 1, at: now };
}
