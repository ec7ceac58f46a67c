// Email through SendGrid's v3 Mail Send API (or anything with its shape):
// POST {SENDGRID_BASE_URL}/v3/mail/send, bearer API key, JSON; 202 on success.
import { identityConfig } from "../config";
import { OtpDeliveryError, type OtpProvider } from "./types";

export const sendgridEmail: OtpProvider = {
  async send(env, message) {
    const s = identityConfig(env).sendgrid;
    if (!s) throw new OtpDeliveryError("sendgrid is not configured");
    let res: Response;
    try {
      res = await fetch(`${s.baseUrl}/v3/mail/send`, {
        method: "POST",
        headers: { authorization: `Bearer ${s.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          personalizations: [{ to: [{ email: message.to }] }],
          from: { email: s.from, name: "Paid Inbox" },
          subject: message.subject ?? "Your Paid Inbox verification code",
          content: [{ type: "text/plain", value: message.text }],
        }),
      });
    } catch {
      throw new OtpDeliveryError("sendgrid unreachable");
    }
    await res.body?.cancel();
    if (res.status < 200 || res.status > 299) {
      const after = Number(res.headers.get("retry-after"));
      throw new OtpDeliveryError(
        `sendgrid answered ${res.status}`,
        res.status,
        Number.isFinite(after) && after > 0 ? after : null,
      );
    }
  },
};
