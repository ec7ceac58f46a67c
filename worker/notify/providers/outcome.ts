// What a delivery attempt came to, and the HTTP plumbing every rail shares:
// no redirects followed, a 10 s timeout, latency measured, response bodies only
// read where the provider puts its answer there (never for user webhooks).

export type Outcome =
  | { ok: true; code: number; providerMessageId?: string }
  /** Worth trying again later: 5xx, 408, 429 (with the provider's retry-after), network errors. */
  | { ok: false; kind: "retry"; code: number; error: string; retryAfter: number | null }
  /** Will not work by retrying (4xx). */
  | { ok: false; kind: "failed"; code: number; error: string }
  /** The user cut the rail off on the provider's side (blocked the bot, link gone): the channel is revoked. */
  | { ok: false; kind: "revoked"; code: number; error: string };

/** The 10 s; NOTIFY_PROVIDER_TIMEOUT_MS overrides it (tests use a short one against a hanging fake). */
export const TIMEOUT_MS = 10_000;

export interface Timed {
  res: Response | null;
  latencyMs: number;
  /** Why there is no response: the provider did not answer in time, or could not be reached. */
  error?: "timeout" | "unreachable";
}

/** fetch with the rails' rules; a network error or timeout gives `res: null`. */
export async function timedFetch(url: string, init: RequestInit, timeoutMs = TIMEOUT_MS): Promise<Timed> {
  const start = Date.now();
  try {
    const res = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    return { res, latencyMs: Date.now() - start };
  } catch (err) {
    const timedOut = (err as Error)?.name === "TimeoutError";
    return { res: null, latencyMs: Date.now() - start, error: timedOut ? "timeout" : "unreachable" };
  }
}

/** Retry-After as seconds (delta or HTTP date), or null. */
export function retryAfterHeader(res: Response, now = Date.now()): number | null {
  const v = res.headers.get("retry-after");
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The usual reading of an HTTP answer; rails refine it (Telegram's 403, X's rate-limit reset). */
export function classify(
  res: Response | null,
  retryAfter: number | null = null,
  noAnswer: Timed["error"] = "unreachable",
): Outcome {
  if (!res) return { ok: false, kind: "retry", code: 0, error: noAnswer ?? "unreachable", retryAfter: null };
  const code = res.status;
  if (code >= 200 && code < 300) return { ok: true, code };
  if (code >= 300 && code < 400) return { ok: false, kind: "failed", code, error: "redirect_refused" };
  if (code === 429)
    return { ok: false, kind: "retry", code, error: "rate_limited", retryAfter: retryAfter ?? retryAfterHeader(res) };
  if (code === 408 || code === 425 || code >= 500)
    return { ok: false, kind: "retry", code, error: `http_${code}`, retryAfter: null };
  return { ok: false, kind: "failed", code, error: `http_${code}` };
}

/** Reads a small JSON answer (provider APIs only), or null. */
export async function json<T>(res: Response): Promise<T | null> {
  try {
    return (await res.json()) as T;
  } catch {
    return null;
  }
}

export async function discard(res: Response | null): Promise<void> {
  try {
    await res?.body?.cancel();
  } catch {}
}
