// SMS through Twilio's Messages API (or anything with its shape):
// POST {TWILIO_BASE_URL}/2010-04-01/Accounts/{sid}/Messages.json, basic auth, form-encoded.
import { identityConfig } from "../config";
import { OtpDeliveryError, type OtpProvider } from "./types";

export const twilioSms: OtpProvider = {
  async send(env, message) {
    const t = identityConfig(env).twilio;
    if (!t) throw new OtpDeliveryError("twilio is not configured");
    const url = `${t.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(t.accountSid)}/Messages.json`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: {
          authorization: `Basic ${btoa(`${t.accountSid}:${t.authToken}`)}`,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: new URLSearchParams({ To: message.to, From: t.from, Body: message.text }),
      });
    } catch {
      throw new OtpDeliveryError("twilio unreachable");
    }
    await res.body?.cancel();
    if (res.status !== 201 && res.status !== 200) throw new OtpDeliveryError(`twilio answered ${res.status}`);
  },
};
