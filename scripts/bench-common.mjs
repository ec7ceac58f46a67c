// What the send benchmarks share (`npm run bench`, `bench:ops`, `bench:rails`): a
// disposable `wrangler dev` per configuration (state on tmpfs, so local SQLite
// fsyncs do not dominate), funded senders and priced recipients made through
// the real API, a warm-up, and interleaved A/B rounds reduced to a median.
//
// Why rounds: on a shared 2-core machine the absolute rates swing several-fold
// from minute to minute. Each round measures A and B back to back (order
// alternating A-B, B-A, so drift cancels), the figure of a round is B/A within
// that round, and the run's figure is the median over rounds — one noisy round
// cannot move it. Every round is printed.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import autocannon from "autocannon";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { cpuOf, cpuPerRequest } from "./bench-profile.mjs";
import { startWranglerDev } from "./wrangler-dev.mjs";

export const health = [{ method: "GET", path: "/health" }];

/** The web UI build and .dev.vars the Worker needs before `wrangler dev` starts. */
export async function ensureBuilt() {
  if (!existsSync("frontend/dist/index.html")) {
    execFileSync("node_modules/.bin/vite", ["build", "--config", "frontend/vite.config.ts", "--logLevel", "warn"]);
  }
  if (!existsSync(".dev.vars")) (await import("./dev-vars.mjs")).ensureDevVars();
}

/**
 * Starts a disposable `wrangler dev` on `port` with `vars` (same flags for
 * every configuration, so only the vars differ); answers { base, pid, stop }.
 * `inspectorPort` opens the Worker's DevTools inspector there (BENCH_PROFILE).
 */
export const startServer = (port, vars = {}, { cwd, inspectorPort = null } = {}) =>
  startWranglerDev({
    port,
    vars,
    cwd,
    prefix: "paid-inbox-bench-",
    args: inspectorPort ? ["--inspector-port", String(inspectorPort)] : [],
  });

/** One JSON call to the app: { status, body } whatever the status (a body that is not JSON: { error: its text }). */
export async function request(base, method, path, { token, body, headers } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  try {
    return { status: res.status, body: text ? JSON.parse(text) : null };
  } catch {
    return { status: res.status, body: { error: text.slice(0, 200) } };
  }
}

/** One JSON call that must succeed (2xx): answers the body, throws with the status and body otherwise. */
export async function call(base, method, path, opts) {
  const r = await request(base, method, path, opts);
  if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

let seq = 0;
/** A signed-in user with a handle (SIWE, as the web UI does); `price` makes it a recipient, else it is funded. */
export async function user(base, prefix, price = null) {
  const account = privateKeyToAccount(generatePrivateKey());
  const { message } = await call(base, "POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
  const s = await call(base, "POST", "/v1/auth/siwe/verify", {
    body: { message, signature: await account.signMessage({ message }) },
  });
  const handle = `${prefix}_${Date.now().toString(36)}_${(seq++).toString(36)}`.slice(0, 30);
  await call(base, "PUT", "/v1/me/profile", { token: s.accessToken, body: { handle } });
  if (price) {
    await call(base, "PUT", "/v1/me/pricing", {
      token: s.accessToken,
      body: { defaultPrice: price, firstContactPrice: price, returnDiscountBps: 0, settlement: "instant" },
    });
  } else {
    await call(base, "POST", "/v1/payments/topup", { token: s.accessToken, body: { amount: "1000000000" } });
  }
  return { token: s.accessToken, handle, id: s.user.id };
}

/** autocannon requests: a random funded sender writes to `to()` (a handle). */
export function sends(senders, to) {
  return [
    {
      method: "POST",
      path: "/v1/messages",
      setupRequest: (req) => {
        const s = senders[Math.floor(Math.random() * senders.length)];
        return {
          ...req,
          headers: { "content-type": "application/json", authorization: `Bearer ${s.token}` },
          body: JSON.stringify({ to: to(), body: "benchmark message: hello there" }),
        };
      },
    },
  ];
}

export const load = (base, requests, opts) =>
  autocannon({ url: base, connections: Number(process.env.BENCH_CONNECTIONS ?? 20), requests, ...opts });

/** Senders and recipients on one server, then a warm-up (JIT, every Account loaded, first contacts made). */
export async function population(base, { senders = 40, recipients = 10, price = "1000" } = {}) {
  const s = [];
  for (let i = 0; i < senders; i++) s.push(await user(base, "bs"));
  const r = [];
  for (let i = 0; i < recipients; i++) r.push(await user(base, "br", price));
  const send = sends(s, () => r[Math.floor(Math.random() * r.length)].handle);
  await load(base, send, { duration: 4 });
  await load(base, health, { duration: 2 });
  return { senders: s, recipients: r, send };
}

export const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/**
 * Interleaved rounds: each round runs every `arm` once (order reversed every
 * other round); an arm is { label, run: () => Promise<autocannon result>, pid? }.
 * Answers per round the successful requests/s of each arm; with `pid` (the
 * server's process), also `.cpu`: per round, the CPU ms its process tree spent
 * per successful request (bench-profile.mjs cpuOf; Linux only).
 */
export async function rounds(arms, n, { onRound, onRoundStart } = {}) {
  // A round where an arm got nothing through (the machine stalled) says nothing about the ratio: run it again.
  const out = [];
  out.cpu = [];
  for (let i = 0, stalls = 0; i < n && stalls < n; i++) {
    const order = i % 2 === 0 ? arms : [...arms].reverse();
    const rates = {};
    const cpu = {};
    onRoundStart?.(i);
    for (const a of order) {
      const before = a.pid ? cpuOf(a.pid) : null;
      const r = await a.run();
      rates[a.label] = r["2xx"] / r.duration;
      const used = a.pid ? cpuPerRequest(before, cpuOf(a.pid), r["2xx"]) : null;
      if (used) cpu[a.label] = used.total;
    }
    if (Object.values(rates).some((x) => !(x > 0))) {
      console.log(`(round ${i + 1} stalled, repeated: ${JSON.stringify(rates)})`);
      stalls++;
      i--;
      continue;
    }
    out.push(rates);
    out.cpu.push(cpu);
    onRound?.(i, rates, cpu);
  }
  return out;
}

/** Sum of a over sum of b across rounds (a second, pooled estimate beside the median). */
export const pooled = (rows, a, b) => rows.reduce((x, r) => x + r[a], 0) / rows.reduce((x, r) => x + r[b], 0);
