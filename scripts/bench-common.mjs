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
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { cpuOf, cpuPerRequest } from "./bench-profile.mjs";

export const health = [{ method: "GET", path: "/health" }];

/** The web UI build and .dev.vars the Worker needs before `wrangler dev` starts. */
export async function ensureBuilt() {
  if (!existsSync("frontend/dist/index.html")) {
    execFileSync("node_modules/.bin/vite", ["build", "--config", "frontend/vite.config.ts", "--logLevel", "warn"]);
  }
  if (!existsSync(".dev.vars")) (await import("./dev-vars.mjs")).ensureDevVars();
}

const up = (base) =>
  fetch(`${base}/health`)
    .then((r) => r.ok)
    .catch(() => false);

/**
 * Starts a disposable `wrangler dev` on `port` with `vars` (same flags for
 * every configuration, so only the vars differ); answers { base, pid, stop }.
 * `inspectorPort` opens the Worker's DevTools inspector there (BENCH_PROFILE).
 */
export async function startServer(port, vars = {}, { cwd = process.cwd(), inspectorPort = null } = {}) {
  const base = `http://127.0.0.1:${port}`;
  const wrangler = join(process.cwd(), "node_modules/.bin/wrangler");
  if (await up(base)) throw new Error(`something already answers on port ${port}`);
  const state = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "paid-inbox-bench-"));
  execFileSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
    stdio: "ignore",
    cwd,
  });
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state];
  if (inspectorPort) args.push("--inspector-port", String(inspectorPort));
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawn(wrangler, args, { stdio: "ignore", detached: true, cwd });
  const exited = new Promise((r) => child.once("exit", r));
  /** Stops the server's process group, waits for it, then removes its state (a failure to remove only warns). */
  const stop = async () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    try {
      rmSync(state, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch (err) {
      console.warn(`could not remove ${state}: ${err.message}`);
    }
  };
  // Up to 3 minutes: wrangler dev starts slowly on a loaded machine.
  for (let i = 0; i < 360 && !(await up(base)); i++) await new Promise((r) => setTimeout(r, 500));
  if (!(await up(base))) {
    await stop();
    throw new Error(`the bench server on ${port} did not come up`);
  }
  return { base, pid: child.pid, stop };
}

export async function call(base, method, path, { token, body, headers } = {}) {
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
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
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
