// GET /v1/compliance/launch-readiness: named checks, each pass | warn | fail
// with a reason. Any fail means the deployment is not ready. Every check reads
// the Worker's own configuration (config(), identityConfig()) and state, and
// never echoes a secret's value. A check that throws fails with the error's
// message (config() refuses to load without APP_ORIGIN outside development —
// which is itself the finding).
import journal from "../../migrations/meta/_journal.json";
import { feeMismatch } from "../chain/vault-fee";
import { config } from "../config";
import { identityConfig } from "../identity/config";
import { CONSENT_VERSION } from "../notify/consent";
import { BUCKET_MS } from "../observability/counters";
import { checkpointIntervalMinutes } from "./audit";
import { chainStatus } from "./hooks";

export type Verdict = "pass" | "warn" | "fail";
export interface Check {
  name: string;
  status: Verdict;
  reason: string;
}

const SECRETS = ["JWT_SECRET", "ADMIN_TOKEN", "PII_KEY", "OTP_HMAC_KEY", "AUDIT_SIGNING_KEY"] as const;
/** Values that are obviously not production secrets (test fixtures, placeholders, examples). */
const DEV_SECRET = /^(test|dev|development|local|changeme|change-me|secret|password|generate|example|xxx)/i;

/** Production ceilings: a configured limit above these is a development value. */
const MAX_PRODUCTION = {
  sendPerMinute: 600,
  receivePerMinute: 6_000,
  otpIpDailyCap: 100,
  lookupIpPerMinute: 300,
  abuseRefuse: 10_000,
};

const pass = (name: string, reason: string): Check => ({ name, status: "pass", reason });
const warn = (name: string, reason: string): Check => ({ name, status: "warn", reason });
const fail = (name: string, reason: string): Check => ({ name, status: "fail", reason });

function guarded(name: string, f: () => Check): Check {
  try {
    return f();
  } catch (err) {
    return fail(name, (err as Error).message);
  }
}

const raw = (env: Env) => env as unknown as Record<string, string | undefined>;

export function secretsCheck(env: Env): Check {
  const problems: string[] = [];
  for (const name of SECRETS) {
    const v = raw(env)[name];
    if (!v) problems.push(`${name} is not set`);
    else if (v.length < 32 || DEV_SECRET.test(v)) problems.push(`${name} looks like a development value`);
  }
  return problems.length ? fail("secrets", problems.join("; ")) : pass("secrets", `${SECRETS.length} secrets set`);
}

export function appOriginCheck(env: Env): Check {
  const origin = raw(env).APP_ORIGIN;
  if (!origin) return fail("app_origin", "APP_ORIGIN is not set");
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return fail("app_origin", "APP_ORIGIN is not a URL");
  }
  if (url.protocol !== "https:") return fail("app_origin", "APP_ORIGIN must be https");
  return pass("app_origin", `https origin ${url.host}`);
}

export function rpIdCheck(env: Env): Check {
  const origin = raw(env).APP_ORIGIN;
  if (!origin) return fail("rp_id", "no APP_ORIGIN to match the passkey RP id against");
  const host = new URL(origin).hostname;
  const rpId = identityConfig(env).rpId;
  if (!rpId) return pass("rp_id", `derived from APP_ORIGIN (${host})`);
  if (host === rpId || host.endsWith(`.${rpId}`)) return pass("rp_id", `RP_ID ${rpId} matches ${host}`);
  return fail("rp_id", `RP_ID ${rpId} does not match APP_ORIGIN host ${host}`);
}

export function otpProviderCheck(env: Env): Check {
  const id = identityConfig(env);
  if (id.otpProvider !== "http") return fail("otp_provider", "OTP_PROVIDER is dev: codes go to a local outbox");
  const missing = [!id.twilio && "Twilio (SMS)", !id.sendgrid && "SendGrid (email)"].filter(Boolean);
  if (missing.length) return fail("otp_provider", `OTP_PROVIDER=http but ${missing.join(" and ")} not configured`);
  return pass("otp_provider", "http (Twilio SMS, SendGrid email)");
}

export function rateLimitsCheck(env: Env): Check {
  const cfg = config(env);
  const id = identityConfig(env);
  const over: string[] = [];
  if (cfg.sendRate.perMinute > MAX_PRODUCTION.sendPerMinute) over.push("SEND_RATE_PER_MINUTE");
  if (cfg.receiveRate.perMinute > MAX_PRODUCTION.receivePerMinute) over.push("RECEIVE_RATE_PER_MINUTE");
  if (id.otpIpDailyCap > MAX_PRODUCTION.otpIpDailyCap) over.push("OTP_IP_DAILY_CAP");
  if (id.lookupIpPerMinute > MAX_PRODUCTION.lookupIpPerMinute) over.push("LOOKUP_IP_PER_MINUTE");
  if (!cfg.abuse) over.push("ABUSE_CHECKS (off)");
  else {
    const a = cfg.abuse;
    const pairs = {
      ABUSE_FIRST_CONTACTS_PER_HOUR: a.perHour,
      ABUSE_FIRST_CONTACTS_PER_DAY: a.perDay,
      ABUSE_NEW_ACCOUNT_FIRST_CONTACTS_PER_HOUR: a.newAccountPerHour,
      ABUSE_FAILED_PAYMENTS_PER_DAY: a.failedPerDay,
      ABUSE_SIGNUPS_PER_IP: a.signupsPerIp,
      ABUSE_SIGNUPS_PER_DEVICE: a.signupsPerDevice,
    };
    for (const [name, [, refuse]] of Object.entries(pairs)) if (refuse > MAX_PRODUCTION.abuseRefuse) over.push(name);
    if (a.complaintBps[1] > 10_000) over.push("ABUSE_COMPLAINT_BPS");
  }
  return over.length
    ? fail("rate_limits", `development values: ${over.join(", ")}`)
    : pass(
        "rate_limits",
        `send ${cfg.sendRate.perMinute}/min, receive ${cfg.receiveRate.perMinute}/min, abuse thresholds on`,
      );
}

export function ledgerModeCheck(env: Env): Check {
  const e = raw(env);
  if (e.LEDGER_MODE === "chain") return pass("ledger_mode", "chain: custody in the vault");
  if (e.ENVIRONMENT === "development") return fail("ledger_mode", "simulated ledger (development)");
  if (e.ALLOW_SIMULATED_LEDGER === "true")
    return warn("ledger_mode", "simulated ledger allowed (staging): not real money");
  return fail("ledger_mode", "simulated ledger outside development without ALLOW_SIMULATED_LEDGER");
}

export function devRoutesCheck(env: Env): Check {
  return raw(env).ENVIRONMENT === "production"
    ? pass("dev_routes", "ENVIRONMENT=production: /v1/dev/* and the faucet are off")
    : fail("dev_routes", `ENVIRONMENT=${raw(env).ENVIRONMENT}: development routes and the faucet are on`);
}

export function auditCheck(env: Env, newestCheckpointAt: number | null, now: number): Check {
  const cfg = config(env);
  if (!cfg.auditChain) return fail("audit_log", "AUDIT_CHAIN=off: ledger entries are not hash-chained");
  if (!raw(env).AUDIT_SIGNING_KEY) return fail("audit_log", "AUDIT_SIGNING_KEY is not set: no signed checkpoints");
  const interval = checkpointIntervalMinutes(env) * 60_000;
  if (newestCheckpointAt === null)
    return warn("audit_log", "no checkpoint signed yet (the Cron makes one every interval)");
  if (now - newestCheckpointAt > 2 * interval)
    return warn("audit_log", "the newest checkpoint is older than two intervals");
  return pass("audit_log", "hash chain on; checkpoints signed");
}

/** The version of the consent text users agree to when connecting a rail (worker/notify/consent.ts). */
export function consentCheck(v: string = CONSENT_VERSION): Check {
  return /^\d{4}-\d{2}-\d{2}$/.test(v)
    ? pass("consent_version", `consent text version ${v}`)
    : fail("consent_version", "no consent text version set (a dated version, YYYY-MM-DD)");
}

export interface Facts {
  appliedMigrations: string[];
  deadLettersDay: number;
  newestCheckpointAt: number | null;
  chain: Awaited<ReturnType<typeof chainStatus>>;
  vault: {
    configured: boolean;
    paused: boolean | null;
    feeRecipient: string | null;
    /** The vault's fee in basis points (null when unread). */
    feeBps?: bigint | null;
    error?: string;
  } | null;
}

export function migrationsCheck(applied: string[]): Check {
  const expected = journal.entries.map((e) => `${e.tag}.sql`);
  const missing = expected.filter((m) => !applied.includes(m));
  return missing.length
    ? fail("migrations", `not applied: ${missing.join(", ")}`)
    : pass("migrations", `${expected.length} migrations applied`);
}

export function dlqCheck(env: Env, deadLettersDay: number): Check {
  const max = Number(raw(env).READINESS_DLQ_MAX ?? "10");
  if (deadLettersDay >= max)
    return fail("dead_letters", `${deadLettersDay} dead letters in the last day (threshold ${max})`);
  if (deadLettersDay > 0) return warn("dead_letters", `${deadLettersDay} dead letters in the last day`);
  return pass("dead_letters", "no dead letters in the last day");
}

export function indexerLagCheck(env: Env, chain: Facts["chain"]): Check {
  if (config(env).ledgerMode !== "chain") return pass("indexer_lag", "chain mode off (simulated ledger)");
  if (!chain) return fail("indexer_lag", "chain mode on but the indexer reports no status");
  if (chain.indexer.rpcError) return fail("indexer_lag", `RPC error: ${chain.indexer.rpcError}`);
  const max = Number(raw(env).READINESS_INDEXER_LAG_BLOCKS ?? "50");
  const lag = chain.indexer.lagBlocks;
  if (lag === null) return fail("indexer_lag", "lag unknown");
  return lag > max
    ? fail("indexer_lag", `${lag} blocks behind (threshold ${max})`)
    : pass("indexer_lag", `${lag} blocks behind`);
}

export function chainContractsCheck(env: Env, vault: Facts["vault"]): Check {
  if (config(env).ledgerMode !== "chain") return pass("chain_contracts", "chain mode off (simulated ledger)");
  if (!vault?.configured) return fail("chain_contracts", "VAULT_ADDRESS, TOKEN_ADDRESS or CHAIN_RPC_URL not set");
  if (vault.error) return fail("chain_contracts", `cannot read the vault: ${vault.error}`);
  if (vault.paused) return fail("chain_contracts", "the vault is paused");
  if (!vault.feeRecipient || /^0x0{40}$/i.test(vault.feeRecipient)) return fail("chain_contracts", "no fee recipient");
  const mismatch = feeMismatch(config(env).feeBps, vault.feeBps ?? null);
  if (mismatch) return fail("chain_contracts", `${mismatch}: quotes would not match what is charged`);
  return pass("chain_contracts", "vault configured, not paused, fee recipient set, fee matches FEE_BPS");
}

async function readVault(env: Env): Promise<Facts["vault"]> {
  const e = raw(env);
  if (config(env).ledgerMode !== "chain") return null;
  if (!e.VAULT_ADDRESS || !e.TOKEN_ADDRESS || !e.CHAIN_RPC_URL)
    return { configured: false, paused: null, feeRecipient: null };
  try {
    const [{ createPublicClient, http }, { vaultAbi }] = await Promise.all([import("viem"), import("../chain/abis")]);
    const client = createPublicClient({ transport: http(e.CHAIN_RPC_URL) });
    const address = e.VAULT_ADDRESS as `0x${string}`;
    const [paused, feeRecipient, feeBps] = await Promise.all([
      client.readContract({ address, abi: vaultAbi, functionName: "paused" }),
      client.readContract({ address, abi: vaultAbi, functionName: "feeRecipient" }),
      client.readContract({ address, abi: vaultAbi, functionName: "feeBps" }),
    ]);
    return {
      configured: true,
      paused: paused as boolean,
      feeRecipient: feeRecipient as string,
      feeBps: BigInt(feeBps as bigint),
    };
  } catch (err) {
    return { configured: true, paused: null, feeRecipient: null, error: (err as Error).name };
  }
}

export async function gatherFacts(env: Env, now = Date.now()): Promise<Facts> {
  const [applied, dead, newest, chain, vault] = await Promise.all([
    env.DB.prepare("SELECT name FROM d1_migrations")
      .all<{ name: string }>()
      .then((r) => r.results.map((x) => x.name))
      .catch(() => [] as string[]),
    env.DB.prepare(
      "SELECT COALESCE(SUM(value), 0) AS n FROM ops_counters WHERE metric LIKE 'dead_letters:%' AND bucket >= ?",
    )
      .bind(Math.floor((now - 86_400_000) / BUCKET_MS))
      .first<{ n: number }>()
      .then((r) => r?.n ?? 0)
      .catch(() => 0),
    env.DB.prepare("SELECT MAX(created_at) AS t FROM audit_checkpoints")
      .first<{ t: number | null }>()
      .then((r) => r?.t ?? null)
      .catch(() => null),
    chainStatus(env).catch(() => null),
    guardedVault(env),
  ]);
  return { appliedMigrations: applied, deadLettersDay: dead, newestCheckpointAt: newest, chain, vault };
}

async function guardedVault(env: Env): Promise<Facts["vault"]> {
  try {
    return await readVault(env);
  } catch {
    return null;
  }
}

export async function launchReadiness(env: Env, now = Date.now()) {
  const facts = await gatherFacts(env, now);
  const checks: Check[] = [
    guarded("secrets", () => secretsCheck(env)),
    guarded("app_origin", () => appOriginCheck(env)),
    guarded("rp_id", () => rpIdCheck(env)),
    guarded("otp_provider", () => otpProviderCheck(env)),
    guarded("rate_limits", () => rateLimitsCheck(env)),
    guarded("dev_routes", () => devRoutesCheck(env)),
    guarded("ledger_mode", () => ledgerModeCheck(env)),
    guarded("chain_contracts", () => chainContractsCheck(env, facts.vault)),
    guarded("dead_letters", () => dlqCheck(env, facts.deadLettersDay)),
    guarded("indexer_lag", () => indexerLagCheck(env, facts.chain)),
    guarded("migrations", () => migrationsCheck(facts.appliedMigrations)),
    guarded("consent_version", () => consentCheck()),
    guarded("audit_log", () => auditCheck(env, facts.newestCheckpointAt, now)),
  ];
  const count = (s: Verdict) => checks.filter((c) => c.status === s).length;
  return {
    ready: count("fail") === 0,
    summary: { pass: count("pass"), warn: count("warn"), fail: count("fail") },
    checks,
  };
}
