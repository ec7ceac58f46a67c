// Maps the business outcomes Accounts return as data to HTTP errors.
import type { Fail } from "../../durable-objects/account";
import { ApiError } from "./errors";

type AnyFail = Fail<string>;

const MESSAGES: Record<string, [number, string]> = {
  insufficient_balance: [402, "Your balance does not cover price + fee."],
  price_above_max: [409, "The recipient's price is above your maxPrice."],
  sender_blocked: [403, "The recipient does not accept messages from you."],
  idempotency_conflict: [409, "This Idempotency-Key was used with a different request."],
  idempotency_in_progress: [409, "A request with this Idempotency-Key is still in progress."],
  message_aborted: [409, "An earlier attempt with this Idempotency-Key was aborted and refunded; use a new key."],
  rate_limited: [429, "Too many requests; slow down."],
};

/** `messages` rewords codes for a route (e.g. a withdrawal has no price + fee). */
export function failToError(fail: AnyFail, messages: Record<string, string> = {}): ApiError {
  const {
    ok: _ok,
    code,
    retryAfterSeconds,
    ...details
  } = fail as AnyFail & {
    retryAfterSeconds?: number;
  } & Record<string, unknown>;
  const [status, fallback] = MESSAGES[code] ?? [409, code];
  const message = messages[code] ?? fallback;
  const headers: Record<string, string> = retryAfterSeconds ? { "Retry-After": String(retryAfterSeconds) } : {};
  return new ApiError(status as 402, code, message, details, headers);
}
