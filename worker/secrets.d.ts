// Worker secrets (not in wrangler.toml, so `wrangler types` cannot see them).
// Local values live in .dev.vars; see .dev.vars.example for what each is for.
declare namespace Cloudflare {
  interface Env {
    JWT_SECRET: string;
    ADMIN_TOKEN: string;
    PII_KEY: string;
    OTP_HMAC_KEY: string;
  }
}
