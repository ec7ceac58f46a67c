// Where the server's CPU goes, for the send benchmarks (BENCH_PROFILE=1).
//
// Two instruments, both reading the disposable `wrangler dev` the bench started:
//   - cpuOf(pid): CPU time of that server's process tree (wrangler's node, its
//     proxy workerd, the runtime workerd that runs the Worker, its Durable
//     Objects and the local D1/R2/queue simulators), from /proc. Divided by the
//     requests served it is a cost per request that, unlike requests/s, barely
//     moves when other processes compete for the cores.
//   - cpuProfile(inspectorPort, run): a V8 CPU profile of the Worker's isolate
//     over the Chrome DevTools Protocol (`wrangler dev --inspector-port`,
//     Profiler.start/stop) while `run()` loads it. The sampling profiler
//     over-weights short native calls (hashing, SQL) made from hot JS, so read
//     its shares together with cpuOf and with ablations (bench:ops), not alone.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import WebSocket from "ws";

/** Which process of a `wrangler dev` tree this is (the runtime workerd is the one with a debug port). */
function role(pid, comm) {
  if (comm !== "workerd") return comm === "node" ? "wrangler" : comm;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--debug-port") ? "runtime" : "proxy";
  } catch {
    return "workerd";
  }
}

/** The pids of `rootPid` and all its descendants, from a list of {pid, ppid}. */
export function processTree(procs, rootPid) {
  const tree = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (tree.has(p.ppid) && !tree.has(p.pid)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  return tree;
}

/** CPU milliseconds used so far by `rootPid` and its descendants, by role; null off Linux. */
export function cpuOf(rootPid) {
  if (!rootPid || !existsSync("/proc/self/stat")) return null;
  const procs = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const st = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      // utime + stime, in clock ticks (100 per second on Linux).
      procs.push({
        pid: +p,
        ppid: +f[1],
        ms: (+f[11] + +f[12]) * 10,
        comm: st.slice(st.indexOf("(") + 1, st.lastIndexOf(")")),
      });
    } catch {}
  }
  const tree = processTree(procs, rootPid);
  const out = {};
  for (const p of procs) if (tree.has(p.pid)) out[`${p.pid}`] = { role: role(p.pid, p.comm), ms: p.ms };
  return out;
}

/** CPU ms per request between two cpuOf() snapshots, by role and in total. */
export function cpuPerRequest(before, after, requests) {
  if (!before || !after || !requests) return null;
  const by = { total: 0 };
  for (const [pid, { role: r, ms }] of Object.entries(after)) {
    const d = ms - (before[pid]?.ms ?? 0);
    by[r] = (by[r] ?? 0) + d / requests;
    by.total += d / requests;
  }
  return by;
}

/** Runs `run()` with the Worker's isolate under the V8 sampling profiler; answers [run's result, profile]. */
export async function cpuProfile(inspectorPort, run, { intervalUs = 500 } = {}) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  // wrangler's inspector proxy renumbers the answers it relays, mixes in
  // answers to its own requests and does not relay every answer, so commands
  // are sent without waiting for theirs; only Profiler.stop's answer is awaited,
  // recognised by its shape (it carries the profile), with a time limit.
  let id = 0;
  const send = (method, params = {}) => ws.send(JSON.stringify({ id: ++id, method, params }));
  try {
    send("Profiler.enable");
    send("Profiler.setSamplingInterval", { interval: intervalUs });
    send("Profiler.start");
    const result = await run();
    const profile = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no CPU profile from the inspector within 120 s")), 120_000);
      ws.on("message", (data) => {
        const m = JSON.parse(data);
        if (!m.result?.profile) return;
        clearTimeout(timer);
        resolve(m.result.profile);
      });
    });
    send("Profiler.stop");
    return [result, await profile];
  } finally {
    ws.close();
  }
}

const frameKey = (n) =>
  `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/.*\//, "")}:${n.callFrame.lineNumber + 1}`;

/**
 * Self and inclusive time per function of a CPU profile, as a share of the
 * busy samples (idle excluded) and in µs per request when `requests` is given.
 */
export function summarise(profile, { requests = 0, top = 25 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const counts = new Map();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const usPerSample = (profile.endTime - profile.startTime) / profile.samples.length;
  const self = new Map();
  const incl = new Map();
  let busy = 0;
  for (const [nodeId, c] of counts) {
    const n = byId.get(nodeId);
    if (n.callFrame.functionName === "(idle)") continue;
    busy += c;
    self.set(frameKey(n), (self.get(frameKey(n)) ?? 0) + c);
    const seen = new Set();
    for (let x = nodeId; x !== undefined; x = parent.get(x)) {
      const k = frameKey(byId.get(x));
      if (k.startsWith("(root)") || seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + c);
    }
  }
  const rows = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, c]) => ({
        function: fn,
        "% busy": +((100 * c) / busy).toFixed(1),
        ...(requests ? { "µs/request": Math.round((c * usPerSample) / requests) } : {}),
      }));
  return {
    busyShare: busy / profile.samples.length,
    busyUsPerRequest: requests ? (busy * usPerSample) / requests : null,
    self: rows(self),
    inclusive: rows(incl),
  };
}
