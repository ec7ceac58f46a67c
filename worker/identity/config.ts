// Identity settings ([vars] + optional secrets), read once per env object.
// Optional features (OAuth providers, HTTP OTP providers) are simply off when
// their settings are missing; only the required secrets in ../config.ts 503.
import { config } from "../config";

export type OAuthProviderId = "google" | "github";

export interface OAuthProviderConfig {
  id: OAuthProviderId;
  clientId: string;
  clientSecret: string;
  authUrl: string;
  tokenUrl: string;
  profileUrl: string;
  scope: string;
}

export interface IdentityConfig {
  rpName: string;
  /** Explicit RP id, or null to use the host of the origin. */
  rpId: string | null;
  piiKeyVersion: number;
  otpProvider: "dev" | "http";
  otpIpDailyCap: number;
  otpTargetDailyCap: number;
  otpResendCooldownSeconds: number;
  lookupIpPerMinute: number;
  lookupUserPerMinute: number;
  phoneLookupUserDailyCap: number;
  twilio: { baseUrl: string; accountSid: string; authToken: string; from: string } | null;
  sendgrid: { baseUrl: string; apiKey: string; from: string } | null;
  oauth: Partial<Record<OAuthProviderId, OAuthProviderConfig>>;
}

const cache = new WeakMap<object, IdentityConfig>();

function int(value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= min ? n : fallback;
}

const trimSlash = (u: string) => u.replace(/\/+$/, "");

export function identityConfig(env: Env): IdentityConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const cfg = config(env);
  const oauth: IdentityConfig["oauth"] = {};
  if (env.GOOGLE_CLIENT_ID && env.GOOGLE_CLIENT_SECRET) {
    oauth.google = {
      id: "google",
      clientId: env.GOOGLE_CLIENT_ID,
      clientSecret: env.GOOGLE_CLIENT_SECRET,
      authUrl: env.GOOGLE_AUTH_URL || "https://accounts.google.com/o/oauth2/v2/auth",
      tokenUrl: env.GOOGLE_TOKEN_URL || "https://oauth2.googleapis.com/token",
      profileUrl: env.GOOGLE_USERINFO_URL || "https://openidconnect.googleapis.com/v1/userinfo",
      scope: "openid",
    };
  }
  if (env.GITHUB_CLIENT_ID && env.GITHUB_CLIENT_SECRET) {
    oauth.github = {
      id: "github",
      clientId: env.GITHUB_CLIENT_ID,
      clientSecret: env.GITHUB_CLIENT_SECRET,
      authUrl: env.GITHUB_AUTH_URL || "https://github.com/login/oauth/authorize",
      tokenUrl: env.GITHUB_TOKEN_URL || "https://github.com/login/oauth/access_token",
      profileUrl: env.GITHUB_USER_URL || "https://api.github.com/user",
      scope: "read:user",
    };
  }
  const out: IdentityConfig = {
    rpName: env.RP_NAME || "Paid Inbox",
    rpId: env.RP_ID || null,
    piiKeyVersion: int(env.PII_KEY_VERSION, 1, 1),
    otpProvider: env.OTP_PROVIDER === "http" ? "http" : "dev",
    // Strict when unset outside development; generous in development.
    otpIpDailyCap: int(env.OTP_IP_DAILY_CAP, cfg.isDevelopment ? 1000 : 20, 1),
    otpTargetDailyCap: int(env.OTP_TARGET_DAILY_CAP, cfg.isDevelopment ? 10 : 5, 1),
    otpResendCooldownSeconds: int(env.OTP_RESEND_COOLDOWN_SECONDS, 60),
    lookupIpPerMinute: int(env.LOOKUP_IP_PER_MINUTE, cfg.isDevelopment ? 1000 : 30, 1),
    lookupUserPerMinute: int(env.LOOKUP_USER_PER_MINUTE, cfg.isDevelopment ? 1000 : 20, 1),
    phoneLookupUserDailyCap: int(env.PHONE_LOOKUP_USER_DAILY_CAP, cfg.isDevelopment ? 1000 : 20, 1),
    twilio:
      env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN && env.TWILIO_FROM
        ? {
            baseUrl: trimSlash(env.TWILIO_BASE_URL || "https://api.twilio.com"),
            accountSid: env.TWILIO_ACCOUNT_SID,
            authToken: env.TWILIO_AUTH_TOKEN,
            from: env.TWILIO_FROM,
          }
        : null,
    sendgrid:
      env.SENDGRID_API_KEY && env.EMAIL_FROM
        ? {
            baseUrl: trimSlash(env.SENDGRID_BASE_URL || "https://api.sendgrid.com"),
            apiKey: env.SENDGRID_API_KEY,
            from: env.EMAIL_FROM,
          }
        : null,
    oauth,
  };
  cache.set(env, out);
  return out;
}

/** The public origin (APP_ORIGIN, or the request's own origin in development). */
export function appOrigin(env: Env, requestUrl: string): string {
  return config(env).appOrigin ?? new URL(requestUrl).origin;
}

/** The passkey relying party: RP_ID or the origin's host name, and the origin WebAuthn must report. */
export function relyingParty(env: Env, requestUrl: string): { rpId: string; rpName: string; origin: string } {
  const ic = identityConfig(env);
  const origin = appOrigin(env, requestUrl);
  return { rpId: ic.rpId ?? new URL(origin).hostname, rpName: ic.rpName, origin };
}
