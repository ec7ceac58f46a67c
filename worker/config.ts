// Typed view of the Worker's configuration: [vars] plus secrets.
// Secrets are checked once per isolate; a missing one refuses every request
// with a clear 503 that names the secret (never its value).
import type { BucketLimit } from "./domain/rate-limit";
import { type AbuseLimits, abuseLimitsFrom } from "./domain/reputation";
import { ApiError } from "./http/errors";

/** 2^96 − 1: the largest price the PricingRegistry (uint96) and the vault (uint128) can hold. */
export const MAX_PRICE_LIMIT = 2n ** 96n - 1n;

export const REQUIRED_SECRETS = ["JWT_SECRET", "ADMIN_TOKEN", "PII_KEY", "OTP_HMAC_KEY"] as const;

export interface Config {
  environment: "development" | "production" | string;
  isDevelopment: boolean;
  ledgerMode: "simulated" | "chain";
  /** Outside development a simulated ledger is refused unless this is set (a staging deployment). */
  allowSimulatedLedger: boolean;
  /** Highest price a recipient may ask (the PricingRegistry stores prices as uint96). */
  maxPrice: bigint;
  appOrigin: string | null;
  chainId: number;
  chainRpcUrl: string | null;
  feeBps: bigint;
  topupMax: bigint;
  bodyLimitBytes: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlMs: number;
  /** Sends per sender Account (token bucket). */
  sendRate: BucketLimit;
  /** Paid messages accepted per recipient Account (token bucket). */
  receiveRate: BucketLimit;
  /** Hash-chain every ledger entry (AUDIT_CHAIN=off only for the bench's comparison run). */
  auditChain: boolean;
  /** Sender reputation thresholds for first contacts; null when ABUSE_CHECKS=off (only for the bench's comparison run). */
  abuse: AbuseLimits | null;
}

const cache = new WeakMap<object, Config>();

export function missingSecrets(env: Env): string[] {
  const e = env as unknown as Record<string, unknown>;
  return REQUIRED_SECRETS.filter((name) => typeof e[name] !== "string" || (e[name] as string).length < 16);
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`config ${name} must be a non-negative integer`);
  return n;
}

function big(value: string | undefined, fallback: bigint): bigint {
  return value && /^\d+$/.test(value) ? BigInt(value) : fallback;
}

export function config(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const missing = missingSecrets(env);
  if (missing.length > 0) {
    throw new ApiError(503, "misconfigured", `Server is missing required secrets: ${missing.join(", ")}.`);
  }
  const e = env as unknown as Record<string, string | undefined>;
  const feeBps = big(env.FEE_BPS, 250n);
  if (feeBps > 10_000n) throw new ApiError(503, "misconfigured", "FEE_BPS must be at most 10000.");
  const cfg: Config = {
    environment: env.ENVIRONMENT,
    isDevelopment: env.ENVIRONMENT === "development",
    ledgerMode: env.LEDGER_MODE === "chain" ? "chain" : "simulated",
    allowSimulatedLedger: env.ALLOW_SIMULATED_LEDGER === "true",
    maxPrice: big(env.MAX_PRICE, MAX_PRICE_LIMIT),
    appOrigin: env.APP_ORIGIN ? env.APP_ORIGIN.replace(/\/$/, "") : null,
    chainId: int(env.CHAIN_ID, 31337, "CHAIN_ID"),
    chainRpcUrl: env.CHAIN_RPC_URL || null,
    feeBps,
    topupMax: big(env.TOPUP_MAX, 1_000_000_000n),
    bodyLimitBytes: int(env.BODY_LIMIT_BYTES, 65_536, "BODY_LIMIT_BYTES"),
    accessTokenTtlSeconds: int(env.ACCESS_TOKEN_TTL_SECONDS, 900, "ACCESS_TOKEN_TTL_SECONDS"),
    refreshTokenTtlMs: int(env.REFRESH_TOKEN_TTL_DAYS, 30, "REFRESH_TOKEN_TTL_DAYS") * 86_400_000,
    // Defaults are the production ones; wrangler.toml's [vars] raise them for development.
    sendRate: {
      perMinute: int(env.SEND_RATE_PER_MINUTE, 30, "SEND_RATE_PER_MINUTE"),
      burst: int(env.SEND_RATE_BURST, 10, "SEND_RATE_BURST"),
    },
    receiveRate: {
      perMinute: int(env.RECEIVE_RATE_PER_MINUTE, 120, "RECEIVE_RATE_PER_MINUTE"),
      burst: int(env.RECEIVE_RATE_BURST, 30, "RECEIVE_RATE_BURST"),
    },
    auditChain: e.AUDIT_CHAIN !== "off",
    abuse: e.ABUSE_CHECKS === "off" ? null : abuseLimitsFrom(e),
  };
  if (!cfg.isDevelopment && !cfg.appOrigin) {
    throw new ApiError(503, "misconfigured", "APP_ORIGIN must be set outside development.");
  }
  // Balances that are only numbers in a database must not pass for money by accident.
  if (!cfg.isDevelopment && cfg.ledgerMode === "simulated" && !cfg.allowSimulatedLedger) {
    throw new ApiError(
      503,
      "misconfigured",
      "LEDGER_MODE=simulated outside development; use chain, or set ALLOW_SIMULATED_LEDGER=true for staging.",
    );
  }
  if (cfg.maxPrice > MAX_PRICE_LIMIT) {
    throw new ApiError(503, "misconfigured", `MAX_PRICE must be at most ${MAX_PRICE_LIMIT} (uint96).`);
  }
  cache.set(env, cfg);
  return cfg;
}
