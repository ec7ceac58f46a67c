// Notification rails settings ([vars] + optional secrets), read once per env
// object. A rail is offered only when everything it needs is configured; the
// provider base URLs are config so tests run real HTTP against a local fake.
import { config } from "../config";
import { CHANNELS, type ChannelName } from "../domain/delivery-job";
import { identityConfig } from "../identity/config";
import { TIMEOUT_MS } from "./providers/outcome";

export { CHANNELS, type ChannelName };

export interface NotifyConfig {
  /** Retry backoff: base × 2^(attempt−1) with jitter, capped at max (seconds). */
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  /**
   * Coalescing window (NOTIFY_COALESCE_SECONDS): messages to one recipient are gathered
   * from the first one's arrival for this long, then go out as one digest per channel.
   */
  coalesceMs: number;
  /** Delivery attempts, delivery keys and dead letters older than this are purged. */
  retentionDays: number;
  /** Per provider call (the 10 s); every rail's config carries it so its calls abort in time. */
  timeoutMs: number;
  telegram: { apiUrl: string; token: string; botUsername: string; webhookSecret: string; timeoutMs: number } | null;
  whatsapp: {
    apiUrl: string;
    token: string;
    phoneNumberId: string;
    template: string;
    templateLanguage: string;
    appSecret: string;
    verifyToken: string;
    timeoutMs: number;
  } | null;
  x: {
    clientId: string;
    clientSecret: string;
    authUrl: string;
    tokenUrl: string;
    apiUrl: string;
    /** OAuth 2.0 user token of the app's own X account (dm.write), which sends the DMs. */
    botToken: string;
    /** The app's consumer secret: CRC responses and webhook signatures. */
    consumerSecret: string;
    timeoutMs: number;
  } | null;
  /** Ports other than 443 a production webhook URL may use. */
  webhookPorts: Set<string>;
  /** Whether email delivery has a provider (dev outbox in development, SendGrid otherwise). */
  email: boolean;
}

const cache = new WeakMap<object, NotifyConfig>();
const trimSlash = (u: string) => u.replace(/\/+$/, "");

function int(value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= min ? n : fallback;
}

export function notifyConfig(env: Env): NotifyConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const dev = config(env).isDevelopment;
  const ic = identityConfig(env);
  const timeoutMs = int(env.NOTIFY_PROVIDER_TIMEOUT_MS, TIMEOUT_MS, 100);
  const out: NotifyConfig = {
    // Production defaults; wrangler.toml's development values make retries visible within seconds.
    backoffBaseSeconds: int(env.NOTIFY_BACKOFF_BASE_SECONDS, 30),
    backoffMaxSeconds: int(env.NOTIFY_BACKOFF_MAX_SECONDS, 3_600, 1),
    coalesceMs: int(env.NOTIFY_COALESCE_SECONDS, 10) * 1000,
    retentionDays: int(env.NOTIFY_RETENTION_DAYS, 7, 1),
    timeoutMs,
    telegram:
      env.TELEGRAM_BOT_TOKEN && env.TELEGRAM_BOT_USERNAME && env.TELEGRAM_WEBHOOK_SECRET
        ? {
            apiUrl: trimSlash(env.TELEGRAM_API_URL || "https://api.telegram.org"),
            token: env.TELEGRAM_BOT_TOKEN,
            botUsername: env.TELEGRAM_BOT_USERNAME,
            webhookSecret: env.TELEGRAM_WEBHOOK_SECRET,
            timeoutMs,
          }
        : null,
    whatsapp:
      env.WHATSAPP_TOKEN && env.WHATSAPP_PHONE_NUMBER_ID && env.WHATSAPP_APP_SECRET && env.WHATSAPP_VERIFY_TOKEN
        ? {
            apiUrl: trimSlash(env.WHATSAPP_API_URL || "https://graph.facebook.com/v21.0"),
            token: env.WHATSAPP_TOKEN,
            phoneNumberId: env.WHATSAPP_PHONE_NUMBER_ID,
            template: env.WHATSAPP_TEMPLATE || "paid_message_received",
            templateLanguage: env.WHATSAPP_TEMPLATE_LANGUAGE || "en",
            appSecret: env.WHATSAPP_APP_SECRET,
            verifyToken: env.WHATSAPP_VERIFY_TOKEN,
            timeoutMs,
          }
        : null,
    x:
      env.X_CLIENT_ID && env.X_CLIENT_SECRET && env.X_BOT_TOKEN && env.X_CONSUMER_SECRET
        ? {
            clientId: env.X_CLIENT_ID,
            clientSecret: env.X_CLIENT_SECRET,
            authUrl: env.X_AUTH_URL || "https://x.com/i/oauth2/authorize",
            tokenUrl: env.X_TOKEN_URL || "https://api.x.com/2/oauth2/token",
            apiUrl: trimSlash(env.X_API_URL || "https://api.x.com"),
            botToken: env.X_BOT_TOKEN,
            consumerSecret: env.X_CONSUMER_SECRET,
            timeoutMs,
          }
        : null,
    webhookPorts: new Set(
      (env.WEBHOOK_ALLOWED_PORTS ?? "")
        .split(",")
        .map((p) => p.trim())
        .filter((p) => /^\d{1,5}$/.test(p)),
    ),
    email: ic.otpProvider === "dev" ? dev : ic.sendgrid !== null,
  };
  cache.set(env, out);
  return out;
}

/** The rails this deployment can deliver through. */
export function availableChannels(env: Env): ChannelName[] {
  const n = notifyConfig(env);
  return CHANNELS.filter((c) => (c === "webhook" ? true : c === "email" ? n.email : n[c] !== null));
}
