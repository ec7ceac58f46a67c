// Development stand-in for the SMS/email providers: messages land in the
// dev_outbox D1 table, readable at GET /v1/dev/outbox (ENVIRONMENT=development only).
import { db } from "../../db/client";
import { devOutbox } from "../../db/schema";
import type { OtpProvider } from "./types";

export const devProvider: OtpProvider = {
  async send(env, message) {
    await db(env)
      .insert(devOutbox)
      .values({ to: message.to, channel: message.channel, text: message.text, createdAt: Date.now() });
  },
};
