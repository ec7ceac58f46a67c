// OTP delivery: a small interface with a dev provider (local outbox) and real
// HTTP providers (Twilio-shaped SMS, SendGrid-shaped email), chosen by OTP_PROVIDER.
import { config } from "../../config";
import { identityConfig } from "../config";
import type { Channel } from "../pii";
import { devProvider } from "./dev";
import { sendgridEmail } from "./sendgrid";
import { twilioSms } from "./twilio";
import type { OtpProvider } from "./types";

export { OtpDeliveryError, type OtpMessage, type OtpProvider } from "./types";

/** The provider for a channel, or null when none is configured (e.g. dev outbox outside development). */
export function otpProvider(env: Env, channel: Channel): OtpProvider | null {
  const ic = identityConfig(env);
  if (ic.otpProvider === "dev") return config(env).isDevelopment ? devProvider : null;
  if (channel === "phone") return ic.twilio ? twilioSms : null;
  return ic.sendgrid ? sendgridEmail : null;
}
