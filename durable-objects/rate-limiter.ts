// RateLimiter: one object per scope+key (e.g. "otp-ip:1.2.3.4", "otp-target:<blind index>",
// "lookup-ip:1.2.3.4"). A sliding-window log in SQLite storage: the object is
// single-threaded and `hit` has no await between its reads and writes, so limits
// are exact under any concurrency. Keys must never contain PII in clear (callers
// pass blind indexes, not phone numbers or emails).
import { DurableObject } from "cloudflare:workers";

export interface HitResult {
  ok: boolean;
  /** Hits still allowed in the current window after this one. */
  remaining: number;
  /** When refused: seconds until the oldest hit in the window expires (≥ 1). */
  retryAfterSeconds: number;
}

export class RateLimiter extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec("CREATE TABLE IF NOT EXISTS hits (at INTEGER NOT NULL, window_ms INTEGER NOT NULL)");
      this.sql.exec("CREATE INDEX IF NOT EXISTS hits_at ON hits (at)");
    });
  }

  /** Counts one hit unless `limit` hits already fall inside the last `windowMs`. */
  async hit(limit: number, windowMs: number): Promise<HitResult> {
    const now = Date.now();
    this.sql.exec("DELETE FROM hits WHERE at <= ?", now - windowMs);
    const row = this.sql
      .exec<{ n: number; oldest: number | null }>("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM hits")
      .one();
    if (row.n >= limit) {
      const oldest = row.oldest ?? now;
      return { ok: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)) };
    }
    this.sql.exec("INSERT INTO hits (at, window_ms) VALUES (?, ?)", now, windowMs);
    // Clean up once the window has passed, so idle objects keep no hits.
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm < now + windowMs) await this.ctx.storage.setAlarm(now + windowMs + 1000);
    return { ok: true, remaining: limit - row.n - 1, retryAfterSeconds: 0 };
  }

  /** Removes expired hits and re-arms while any are left (alarms are at-least-once: idempotent). */
  async alarm(): Promise<void> {
    const now = Date.now();
    this.sql.exec("DELETE FROM hits WHERE at + window_ms <= ?", now);
    const { last } = this.sql.exec<{ last: number | null }>("SELECT MAX(at + window_ms) AS last FROM hits").one();
    if (last !== null) await this.ctx.storage.setAlarm(last + 1000);
  }
}
