// `npm run ops` end to end against the suite's local app: D1 through `wrangler d1
// execute --local --persist-to` (the app's own state directory) and admin routes
// over HTTP with .dev.vars' ADMIN_TOKEN — the same commands an operator runs
// after `npm start`. (The --remote argv is checked in test/ops-wrangler.test.ts.)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { apiUser } from "./helpers";

function ops(...args: string[]) {
  const r = spawnSync("node", ["scripts/ops.mjs", ...args], {
    encoding: "utf8",
    env: { ...process.env, APP_URL: inject("baseUrl"), CI: "true" },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("npm run ops (local)", () => {
  it("dlq reads the app's local D1 (--persist-to its state)", () => {
    const stateDir = inject("stateDir");
    const key = `ops-e2e-${Date.now()}`;
    const insert = spawnSync(
      "node_modules/.bin/wrangler",
      [
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        stateDir,
        "--command",
        `INSERT INTO dead_letters (key, channel, user_id, job, last_error, created_at) VALUES ('${key}', 'webhook', 'u_ops', '{}', 'HTTP 500', ${Date.now()})`,
      ],
      { encoding: "utf8", env: { ...process.env, CI: "true" } },
    );
    expect(insert.status, insert.stderr).toBe(0);
    const r = ops("dlq", "--persist-to", stateDir);
    expect(r.code, r.err).toBe(0);
    const rows = JSON.parse(r.out) as { key: string; channel: string; lastError: string; redrivenAt: null }[];
    expect(rows.find((x) => x.key === key)).toMatchObject({
      channel: "webhook",
      lastError: "HTTP 500",
      redrivenAt: null,
    });
    expect(r.err).toMatch(/dead letter\(s\) waiting/);
  });

  it("status and ledger-summary reach the app's admin routes", async () => {
    // Conservation is summed from each Account's last flushed totals in D1. The other browser
    // files send concurrently on this app, and a send's two Accounts flush at different times
    // (a busy one at most every 5 s), so a snapshot taken mid-send may not balance yet; once
    // the flushes land it must. Poll for a balanced snapshot rather than assert the first.
    let status = ops("status", "--json");
    let summary = ops("ledger-summary");
    for (let i = 0; i < 20; i++) {
      expect(status.code, status.err).toBe(0);
      expect(summary.code, summary.err).toBe(0);
      if (JSON.parse(status.out).conservation.conserved && JSON.parse(summary.out).conserved) break;
      await new Promise((r) => setTimeout(r, 1_000));
      status = ops("status", "--json");
      summary = ops("ledger-summary");
    }
    expect(JSON.parse(status.out)).toMatchObject({ mode: "simulated", conservation: { conserved: true } });
    expect(JSON.parse(summary.out)).toHaveProperty("conserved", true);
  });

  it("audit-verify fetches an Account's chain through the admin route and verifies it offline", async () => {
    const u = await apiUser("audit", { topup: "5000000" });
    const file = path.join(mkdtempSync(path.join(tmpdir(), "paid-inbox-audit-")), "audit.json");
    const fetched = ops("audit-verify", "--account", u.id, "--out", file);
    expect(fetched.code, fetched.err).toBe(0);
    expect(fetched.out).toContain("✓ verified");
    // The saved export verifies offline, and an edited amount does not.
    expect(ops("audit-verify", file).code).toBe(0);
    const x = JSON.parse(readFileSync(file, "utf8"));
    const topup = x.entries.find((e: { kind: string }) => e.kind === "topup");
    expect(topup.amount).toBe("5000000");
    topup.amount = "6000000";
    writeFileSync(file, JSON.stringify(x));
    const edited = ops("audit-verify", file);
    expect(edited.code).toBe(1);
    expect(edited.out).toContain(`entry ${topup.id}: content does not match its hash (edited)`);
  });

  it("an unknown flag value is refused before anything runs", () => {
    const r = ops("dlq", "--env");
    expect(r.code).toBe(1);
    expect(r.err).toContain("--env needs a value");
  });
});
