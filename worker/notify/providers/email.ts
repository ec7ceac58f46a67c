// Email notices through the OTP provider interface (worker/identity/providers):
// the dev outbox in development, SendGrid otherwise; only to the user's
// verified email, read (and decrypted) at delivery so a changed email is followed.
import { otpProvider } from "../../identity/providers";
import { OtpDeliveryError } from "../../identity/providers/types";
import type { Outcome } from "./outcome";

export async function sendEmail(
  env: Env,
  to: string,
  subject: string,
  text: string,
): Promise<Outcome & { latencyMs: number }> {
  const provider = otpProvider(env, "email");
  const start = Date.now();
  if (!provider) return { ok: false, kind: "failed", code: 0, error: "email_unavailable", latencyMs: 0 };
  try {
    await provider.send(env, { channel: "email", to, text, subject });
    return { ok: true, code: 202, latencyMs: Date.now() - start };
  } catch (err) {
    const latencyMs = Date.now() - start;
    const status = err instanceof OtpDeliveryError ? err.status : 0;
    if (status === 429 || status === 0 || status >= 500) {
      const retryAfter = err instanceof OtpDeliveryError ? err.retryAfter : null;
      return {
        ok: false,
        kind: "retry",
        code: status,
        error: status ? `http_${status}` : "unreachable",
        retryAfter,
        latencyMs,
      };
    }
    return { ok: false, kind: "failed", code: status, error: `http_${status}`, latencyMs };
  }
}
