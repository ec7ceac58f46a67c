// The API's error codes in words that say what to do next.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const WORDS: Record<string, string> = {
  offline: "Paid Inbox can't be reached. Check your connection and try again — nothing was lost.",
  unauthorized: "Your session has ended. Sign in again to continue.",
  forbidden: "You can't do that with this account.",
  insufficient_balance: "Your balance is too low for this. Top up, then try again — your draft is kept.",
  price_above_max: "The price changed since you saw it. Check the new price before you pay.",
  sender_blocked: "This person isn't accepting messages from you. You were not charged.",
  recipient_not_found: "No one has that handle. Check the spelling.",
  user_not_found: "No one has that handle. Check the spelling.",
  self_send: "You can't send a message to yourself.",
  rate_limited: "Too many attempts in a short time. Wait a moment and try again.",
  handle_taken: "That handle is taken. Try another one.",
  invalid_handle: "Handles are 3–30 characters: lowercase letters, digits and underscores.",
  idempotency_conflict: "This draft was already sent with different content. Start a new message.",
  idempotency_in_progress: "This message is still being sent. Wait a second and check your outbox.",
  message_aborted: "That attempt failed and was refunded. Send again.",
  message_not_found: "That message isn't in your inbox.",
  invalid_code: "That code isn't right. Check it and try again.",
  expired: "That code has expired. Ask for a new one.",
  too_many_attempts: "Too many wrong codes. Ask for a new code.",
  credential_exists: "This passkey is already registered.",
  identity_taken: "That account is already linked to another Paid Inbox user.",
  oauth_denied: "The sign-in was cancelled at the provider.",
  oauth_provider_error: "The sign-in provider didn't answer. Try again in a moment.",
  use_onchain_deposit: "Top-ups happen on chain here: deposit USDC into the vault from your wallet.",
  use_onchain_withdraw: "Withdrawals happen on chain here: withdraw from the vault with your wallet.",
  payload_too_large: "That's too long. Shorten it and try again.",
  csrf_refused: "This request didn't come from the app. Reload the page and try again.",
  consent_required: "Please accept the current terms for this channel first.",
  misconfigured: "The server is missing configuration. Tell the operator.",
  internal_error: "Something went wrong on our side. Try again; if it keeps happening, tell us.",
  not_found: "That doesn't exist.",
  last_sign_in_method: "That's your only way to sign in. Add another one first.",
  otp_unavailable: "Codes can't be sent right now. Try another method.",
};

/** Words for an error: known codes get advice; invalid_request keeps the server's detail. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === "invalid_request" || err.code === "invalid_json") return err.message;
    return WORDS[err.code] ?? err.message ?? "Something went wrong.";
  }
  if (err instanceof Error && err.name === "NotAllowedError") return "The request was cancelled or timed out.";
  if (err instanceof Error) return err.message;
  return "Something went wrong.";
}

export const errorCode = (err: unknown) => (err instanceof ApiError ? err.code : undefined);
