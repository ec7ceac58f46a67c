// Sender reputation for first-contact sends, as pure functions over the state a
// sender's Account keeps (so the check is exact and serialized, and no global
// object or D1 row is touched per send). Signals: account age, first contacts
// per hour and per day, complaints (recipients who blocked or reported the
// sender) as a share of first contacts, failed payments, and how many accounts
// were signed up from the same IP / device fingerprint. Configured thresholds
// first SLOW first contacts (one per `slowSeconds`, 429 + Retry-After), then
// REFUSE them (403); each answer names the reason. Messages to people the
// sender has written to before are never affected.

export interface Reputation {
  /** When the account signed up (ms). */
  bornAt: number;
  /** Accounts signed up from the same IP / device fingerprint in the 24 h before this one (itself included). */
  signupsFromIp: number;
  signupsFromDevice: number;
  hourStart: number;
  hourContacts: number;
  dayStart: number;
  dayContacts: number;
  /** First contacts ever made (the denominator of the complaint share). */
  firstContacts: number;
  /** Recipients who blocked or reported this sender. */
  complaints: number;
  failedDayStart: number;
  failedPayments: number;
  /** While slowed: the earliest time the next first contact is let through. */
  slowUntil: number;
}

/** [slow at, refuse at]: the action applies once the count reaches the number. */
export type Pair = [slow: number, refuse: number];

export interface AbuseLimits {
  newAccountMs: number;
  newAccountPerHour: Pair;
  perHour: Pair;
  perDay: Pair;
  /** Complaints per 10,000 first contacts, once `complaintMinSample` first contacts were made. */
  complaintBps: Pair;
  complaintMinSample: number;
  failedPerDay: Pair;
  signupsPerIp: Pair;
  signupsPerDevice: Pair;
  slowSeconds: number;
}

export type AbuseReason =
  | "new_account_first_contacts_per_hour"
  | "first_contacts_per_hour"
  | "first_contacts_per_day"
  | "complaint_share"
  | "failed_payments"
  | "signups_per_ip"
  | "signups_per_device";

export type Verdict = { action: "allow" } | { action: "slow" | "refuse"; reason: AbuseReason };

const HOUR = 3_600_000;
const DAY = 86_400_000;

export function freshReputation(now: number): Reputation {
  return {
    bornAt: now,
    signupsFromIp: 1,
    signupsFromDevice: 1,
    hourStart: now,
    hourContacts: 0,
    dayStart: now,
    dayContacts: 0,
    firstContacts: 0,
    complaints: 0,
    failedDayStart: now,
    failedPayments: 0,
    slowUntil: 0,
  };
}

/** Fixed windows: a window older than its length starts over. */
function rolled(r: Reputation, now: number): Reputation {
  const out = { ...r };
  if (now - out.hourStart >= HOUR) Object.assign(out, { hourStart: now, hourContacts: 0 });
  if (now - out.dayStart >= DAY) Object.assign(out, { dayStart: now, dayContacts: 0 });
  if (now - out.failedDayStart >= DAY) Object.assign(out, { failedDayStart: now, failedPayments: 0 });
  return out;
}

/** The worst action any signal calls for (refuse beats slow), with the first reason found. */
export function assess(r: Reputation, l: AbuseLimits, now: number): Verdict {
  const young = now - r.bornAt < l.newAccountMs;
  const complaintBps = r.firstContacts >= l.complaintMinSample ? (r.complaints * 10_000) / r.firstContacts : 0;
  const signals: [AbuseReason, number, Pair][] = [
    ["signups_per_ip", r.signupsFromIp, l.signupsPerIp],
    ["signups_per_device", r.signupsFromDevice, l.signupsPerDevice],
    ["complaint_share", complaintBps, l.complaintBps],
    ["failed_payments", r.failedPayments, l.failedPerDay],
    ["first_contacts_per_day", r.dayContacts, l.perDay],
    ["first_contacts_per_hour", r.hourContacts, l.perHour],
  ];
  if (young) signals.push(["new_account_first_contacts_per_hour", r.hourContacts, l.newAccountPerHour]);
  for (const [reason, value, [, refuse]] of signals) if (value >= refuse) return { action: "refuse", reason };
  for (const [reason, value, [slow]] of signals) if (value >= slow) return { action: "slow", reason };
  return { action: "allow" };
}

export type Admission =
  | { ok: true; reputation: Reputation }
  | { ok: false; status: 429; reason: AbuseReason; retryAfterSeconds: number; reputation: Reputation }
  | { ok: false; status: 403; reason: AbuseReason; reputation: Reputation };

/** Decides one first-contact send and counts it when it goes through. */
export function admitFirstContact(r: Reputation, l: AbuseLimits, now: number): Admission {
  const cur = rolled(r, now);
  const v = assess(cur, l, now);
  if (v.action === "refuse") return { ok: false, status: 403, reason: v.reason, reputation: cur };
  if (v.action === "slow") {
    if (now < cur.slowUntil) {
      const retryAfterSeconds = Math.max(1, Math.ceil((cur.slowUntil - now) / 1000));
      return { ok: false, status: 429, reason: v.reason, retryAfterSeconds, reputation: cur };
    }
    cur.slowUntil = now + l.slowSeconds * 1000;
  }
  cur.hourContacts++;
  cur.dayContacts++;
  cur.firstContacts++;
  return { ok: true, reputation: cur };
}

export function withFailedPayment(r: Reputation, now: number): Reputation {
  const cur = rolled(r, now);
  cur.failedPayments++;
  return cur;
}

export function withComplaint(r: Reputation): Reputation {
  return { ...r, complaints: r.complaints + 1 };
}

/** Parses "slow,refuse" from a [vars] value. */
export function parsePair(value: string | undefined, fallback: Pair, name: string): Pair {
  if (value === undefined || value === "") return fallback;
  const m = value.match(/^\s*(\d+)\s*,\s*(\d+)\s*$/);
  if (!m) throw new Error(`config ${name} must be "slow,refuse" (two non-negative integers)`);
  return [Number(m[1]), Number(m[2])];
}

/** Production defaults (wrangler.toml [vars] raises them for development). */
export const DEFAULT_ABUSE_LIMITS: AbuseLimits = {
  newAccountMs: 24 * HOUR,
  newAccountPerHour: [5, 20],
  perHour: [20, 60],
  perDay: [100, 300],
  complaintBps: [1_000, 3_000],
  complaintMinSample: 5,
  failedPerDay: [10, 30],
  signupsPerIp: [5, 20],
  signupsPerDevice: [3, 10],
  slowSeconds: 60,
};

export function abuseLimitsFrom(env: Record<string, string | undefined>): AbuseLimits {
  const d = DEFAULT_ABUSE_LIMITS;
  const hours = env.ABUSE_NEW_ACCOUNT_HOURS;
  const slow = env.ABUSE_SLOW_SECONDS;
  return {
    newAccountMs: hours && /^\d+$/.test(hours) ? Number(hours) * HOUR : d.newAccountMs,
    newAccountPerHour: parsePair(
      env.ABUSE_NEW_ACCOUNT_FIRST_CONTACTS_PER_HOUR,
      d.newAccountPerHour,
      "ABUSE_NEW_ACCOUNT_FIRST_CONTACTS_PER_HOUR",
    ),
    perHour: parsePair(env.ABUSE_FIRST_CONTACTS_PER_HOUR, d.perHour, "ABUSE_FIRST_CONTACTS_PER_HOUR"),
    perDay: parsePair(env.ABUSE_FIRST_CONTACTS_PER_DAY, d.perDay, "ABUSE_FIRST_CONTACTS_PER_DAY"),
    complaintBps: parsePair(env.ABUSE_COMPLAINT_BPS, d.complaintBps, "ABUSE_COMPLAINT_BPS"),
    complaintMinSample: d.complaintMinSample,
    failedPerDay: parsePair(env.ABUSE_FAILED_PAYMENTS_PER_DAY, d.failedPerDay, "ABUSE_FAILED_PAYMENTS_PER_DAY"),
    signupsPerIp: parsePair(env.ABUSE_SIGNUPS_PER_IP, d.signupsPerIp, "ABUSE_SIGNUPS_PER_IP"),
    signupsPerDevice: parsePair(env.ABUSE_SIGNUPS_PER_DEVICE, d.signupsPerDevice, "ABUSE_SIGNUPS_PER_DEVICE"),
    slowSeconds: slow && /^\d+$/.test(slow) ? Number(slow) : d.slowSeconds,
  };
}
