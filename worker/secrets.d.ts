// Worker secrets (not in wrangler.toml, so `wrangler types` cannot see them).
// Local values live in .dev.vars; see .dev.vars.example for what each is for.
declare namespace Cloudflare {
  interface Env {
    JWT_SECRET: string;
    ADMIN_TOKEN: string;
    PII_KEY: string;
    OTP_HMAC_KEY: string;
    // Optional: only needed when the feature that uses them is turned on.
    /** Ed25519 seed (base64, 32 bytes) that signs audit checkpoints; launch readiness fails without it in production. */
    AUDIT_SIGNING_KEY?: string;
    /** The PII key before the last rotation (version PII_KEY_VERSION − 1), kept until rows are re-encrypted. */
    PII_KEY_PREVIOUS?: string;
    GOOGLE_CLIENT_SECRET?: string;
    GITHUB_CLIENT_SECRET?: string;
    /** Twilio auth token (OTP_PROVIDER=http, phone codes). */
    TWILIO_AUTH_TOKEN?: string;
    /** SendGrid API key (OTP_PROVIDER=http, email codes). */
    SENDGRID_API_KEY?: string;
    /** Chain mode: the relayer account's key (0x + 64 hex); it signs settleBatch transactions and pays their gas. */
    RELAYER_PRIVATE_KEY?: string;
    /** Telegram bot token (notification rail). */
    TELEGRAM_BOT_TOKEN?: string;
    /** Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (setWebhook secret_token). */
    TELEGRAM_WEBHOOK_SECRET?: string;
    /** WhatsApp Cloud API access token. */
    WHATSAPP_TOKEN?: string;
    /** Meta app secret: X-Hub-Signature-256 of WhatsApp webhooks. */
    WHATSAPP_APP_SECRET?: string;
    /** Verify token for WhatsApp's webhook subscription challenge. */
    WHATSAPP_VERIFY_TOKEN?: string;
    /** X OAuth 2.0 client secret (account linking). */
    X_CLIENT_SECRET?: string;
    /** OAuth 2.0 user token (dm.write) of the app's X account that sends the DMs. */
    X_BOT_TOKEN?: string;
    /** X app consumer secret: CRC responses and webhook signatures. */
    X_CONSUMER_SECRET?: string;
  }
}
