// Retry delays for notification deliveries: exponential backoff with "equal
// jitter" (half fixed, half random), so retries of a burst spread out instead of
// hitting a recovering provider together, and a provider's own Retry-After wins.

/** Delay in whole seconds before retry number `attempt` (1 = the first retry). */
export function backoffSeconds(
  attempt: number,
  baseSeconds: number,
  maxSeconds: number,
  random = Math.random(),
): number {
  const exp = Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, attempt - 1));
  return Math.min(maxSeconds, Math.ceil(exp / 2 + random * (exp / 2)));
}

/** Queues delay at most 12 hours; a provider's retry-after is honoured up to that. */
export const MAX_QUEUE_DELAY_SECONDS = 43_200;

export function retryDelay(
  attempt: number,
  baseSeconds: number,
  maxSeconds: number,
  retryAfterSeconds: number | null,
  random = Math.random(),
): number {
  const backoff = backoffSeconds(attempt, baseSeconds, maxSeconds, random);
  if (retryAfterSeconds === null) return backoff;
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(Math.ceil(retryAfterSeconds), backoff));
}
