#!/usr/bin/env node
// Scans the console output of the whole worker test suite (written by
// vitest.config.ts onConsoleLog to .test-results/worker-logs.txt) for what must
// never be logged: emails, phone numbers, JWTs, bearer tokens. The per-file
// check in test/log-capture.ts also knows the exact bodies and tokens the tests
// used; this one covers the suite end to end. Never prints a matching line.
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2] ?? ".test-results/worker-logs.txt";
const patterns = JSON.parse(readFileSync(new URL("../test/log-patterns.json", import.meta.url), "utf8"));
if (!existsSync(file)) {
  console.error(`log scan: ${file} is missing (the worker suite did not run or did not log)`);
  process.exit(1);
}
const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
const hits = {};
for (const [i, line] of lines.entries()) {
  for (const [name, re] of Object.entries(patterns)) {
    if (new RegExp(re).test(line)) hits[name] = [...(hits[name] ?? []), i + 1];
  }
}
if (lines.length < 100) {
  console.error(`log scan: only ${lines.length} lines captured; expected the whole suite's logs`);
  process.exit(1);
}
if (Object.keys(hits).length) {
  for (const [name, at] of Object.entries(hits))
    console.error(`log scan: ${name} in ${at.length} line(s), e.g. line ${at[0]}`);
  process.exit(1);
}
console.log(`log scan: ${lines.length} log lines from the worker suite, no email, phone, JWT or bearer token`);
