// Setup file (runs inside workerd before every test file): every console line the
// Worker, the Durable Objects and the tests write is captured, and after the
// file's last test each line is searched for what must never reach a log —
// emails, phone numbers, JWTs / bearer tokens, and every sensitive value the
// tests themselves sent or received (message bodies, verification targets,
// refresh tokens, codes), registered through noteSensitive() by the request
// helpers. Durable Objects of the main Worker share this isolate, so their
// console is the same object. A leak fails the file's afterAll hook.
import { afterAll } from "vitest";
import patterns from "./log-patterns.json";

type Capture = { lines: string[]; sensitive: Set<string>; installed: boolean };
const g = globalThis as unknown as { __logCapture?: Capture };
g.__logCapture ??= { lines: [], sensitive: new Set(), installed: false };
const cap: Capture = g.__logCapture;

const METHODS = ["log", "info", "warn", "error", "debug"] as const;

function format(a: unknown): string {
  if (typeof a === "string") return a;
  if (a instanceof Error) return `${a.name}: ${a.message}\n${a.stack ?? ""}`;
  try {
    return JSON.stringify(a) ?? String(a);
  } catch {
    return String(a);
  }
}

if (!cap.installed) {
  cap.installed = true;
  for (const m of METHODS) {
    const original = console[m].bind(console);
    console[m] = (...args: unknown[]) => {
      cap.lines.push(args.map(format).join(" "));
      original(...args);
    };
  }
}

/** Values a test sent or received that must never appear in a log line. */
export function noteSensitive(value: unknown): void {
  if (typeof value === "string") {
    // Short strings, plain numbers and amounts are not secrets (and would match everywhere).
    if (value.length >= 8 && !/^\d+$/.test(value)) cap.sensitive.add(value);
  } else if (Array.isArray(value)) value.forEach(noteSensitive);
  else if (value && typeof value === "object") Object.values(value).forEach(noteSensitive);
}

/** Pattern checks: what looks like PII or a credential whoever wrote it. */
export const FORBIDDEN: [string, RegExp][] = Object.entries(patterns).map(([name, re]) => [name, new RegExp(re)]);

/** The leaks in `lines`: each as [what, line]. */
export function findLeaks(lines: string[], sensitive: Iterable<string>): [string, string][] {
  const out: [string, string][] = [];
  const secrets = [...sensitive];
  for (const line of lines) {
    for (const [name, re] of FORBIDDEN) if (re.test(line)) out.push([name, line]);
    for (const s of secrets) if (line.includes(s)) out.push(["sensitive value", line]);
  }
  return out;
}

/** Lines captured so far in this isolate (for the self-test). */
export const capturedLines = () => cap.lines;

afterAll(() => {
  const leaks = findLeaks(cap.lines, cap.sensitive);
  cap.lines.length = 0;
  if (leaks.length) {
    // Never print the line itself: it is the leak. Say what kind and where it starts.
    const where = leaks
      .slice(0, 5)
      .map(([what, line]) => `${what} in a line starting ${JSON.stringify(line.slice(0, 24))}`);
    throw new Error(`log lines leaked sensitive data (${leaks.length}): ${where.join("; ")}`);
  }
});
