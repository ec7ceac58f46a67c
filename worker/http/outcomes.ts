// Maps the business outcomes Accounts return as data to HTTP errors.
import type { Fail } from "../../durable-objects/account/types";
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
  intent_stale: [409, "Another payment took this vault nonce first; sign the fresh intent."],
  intent_mismatch: [
    409,
    "The signed payment does not match this send (price, recipient, body or ids); sign the fresh intent.",
  ],
  intent_expired: [409, "The signed payment's deadline is too close; sign the fresh intent."],
  invalid_signature: [400, "The payment signature is not the payer wallet's."],
  payment_intent_required: [
    409,
    "In chain mode a paid send carries a signed payment: POST /v1/payments/intents, sign its typedData, send it as `payment`.",
  ],
  sender_restricted: [403, "First-contact sends from your account are restricted (see `reason`)."],
  account_frozen: [403, "This account is frozen: sends and withdrawals are disabled; reading still works."],
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
