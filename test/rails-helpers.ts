// Helpers for the notification-rail tests: the fake providers' request log and
// scripts (test/fakes/rails-fakes.mjs), connecting channels, waiting for deliveries.
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { CONSENT_VERSION } from "../worker/notify/consent";
import { FAKE } from "./fakes/credentials";
import { api } from "./helpers";
import type { User } from "./send-helpers";

export interface RailRequest {
  key: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  status: number;
  at: number;
}

export async function railRequests(key: string): Promise<RailRequest[]> {
  const res = await fetch(`${env.FAKE_PROVIDER_URL}/_fake/rails/requests?key=${encodeURIComponent(key)}`);
  return ((await res.json()) as { items: RailRequest[] }).items;
}

/** A scripted answer; `hang` holds the request open without answering (until the caller times out). */
export type FakeAnswer = { status: number; body?: unknown; headers?: Record<string, string> } | { hang: true };

/** Scripts the fake's next answers for `key`; `otherwise` answers once they are used up. */
export async function script(key: string, responses: FakeAnswer[], otherwise?: FakeAnswer) {
  const res = await fetch(`${env.FAKE_PROVIDER_URL}/_fake/rails/script`, {
    method: "POST",
    body: JSON.stringify({ key, responses, otherwise }),
  });
  expect(res.status).toBe(204);
}

export async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, ms = 40_000): Promise<T> {
  const until = Date.now() + ms;
  let v = await probe();
  while (!done(v) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 150));
    v = await probe();
  }
  return v;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let seq = 0;
export const unique = (p: string) => `${p}-${Date.now().toString(36)}-${(seq++).toString(36)}`;
let chatSeq = 0;
export const uniqueChatId = () => String(7_000_000_000 + ((Date.now() % 1_000_000) * 100 + (chatSeq++ % 100)));

export function connect(u: User, channel: string, body: Record<string, unknown> = {}) {
  return api("POST", `/v1/channels/${channel}/connect`, {
    token: u.accessToken,
    body: { consentVersion: CONSENT_VERSION, ...body },
  });
}

/** Connects a webhook channel to the fake receiver `/hooks/<name>`; returns the signing secret and key. */
export async function connectWebhook(u: User, name = unique("hook")) {
  const r = await connect(u, "webhook", { url: `${env.FAKE_PROVIDER_URL}/hooks/${name}` });
  expect(r.status).toBe(200);
  return { secret: r.body.signingSecret as string, key: `hook:${name}` };
}

/** Telegram calling our webhook with an update. */
export function telegramUpdate(update: unknown, secret: string = FAKE.telegram.webhookSecret) {
  return api("POST", "/webhooks/telegram", {
    raw: JSON.stringify(update),
    headers: { "x-telegram-bot-api-secret-token": secret, "content-type": "application/json" },
  });
}

/** Connects Telegram end to end: deep link → /start <token> from a fresh chat. Returns the fake's key. */
export async function connectTelegram(u: User) {
  const r = await connect(u, "telegram");
  expect(r.status).toBe(200);
  const token = new URL(r.body.connectUrl).searchParams.get("start");
  const chatId = uniqueChatId();
  const res = await telegramUpdate({
    update_id: 1,
    message: { chat: { id: Number(chatId) }, text: `/start ${token}` },
  });
  expect(res.status).toBe(200);
  const key = `tg:${chatId}`;
  // The bot's "Connected" reply goes out in waitUntil; let it land before a test scripts this chat.
  await waitFor(
    () => railRequests(key),
    (r) => r.length > 0,
  );
  return { chatId, key };
}

/** Requests whose body mentions this messageId (a recipient's rail may carry other tests' traffic only by mistake). */
export function about(reqs: RailRequest[], text: string) {
  return reqs.filter((r) => r.body.includes(text));
}
