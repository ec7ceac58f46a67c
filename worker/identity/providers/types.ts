// The OTP provider interface (kept apart so providers and the selector do not import each other).
import type { Channel } from "../pii";

export interface OtpMessage {
  channel: Channel;
  /** Normalized E.164 phone or lowercased email. Never log it. */
  to: string;
  text: string;
  /** Email subject; the OTP one when absent. */
  subject?: string;
}

export interface OtpProvider {
  send(env: Env, message: OtpMessage): Promise<void>;
}

/** A provider failure; the message names the provider and HTTP status only, never the target. */
export class OtpDeliveryError extends Error {
  constructor(
    message: string,
    /** The provider's HTTP status (0: unreachable), so notification retries can tell 5xx from 4xx. */
    readonly status = 0,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "OtpDeliveryError";
  }
}
