// One app for the whole browser suite: `wrangler dev` on a free port with its state
// in a throwaway directory (tmpfs when there is one), D1 migrations applied first,
// and one Chromium that every test file connects to.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserServer, chromium } from "playwright-core";
import type { TestProject } from "vitest/node";
import { ensureDevVars } from "../scripts/dev-vars.mjs";
import { FAKE, fakeProviderBindings } from "../test/fakes/credentials";
import { startFakeProviders } from "../test/fakes/provider-server.mjs";

/** Access tokens live 6 s here, so every flow also exercises the silent refresh. */
export const ACCESS_TTL_SECONDS = 6;
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    wsEndpoint: string;
    stateDir: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

let app: ChildProcess | undefined;
let providers: { url: string; close: () => Promise<void> } | undefined;
let browser: BrowserServer | undefined;
let stateDir: string | undefined;

export async function setup(project: TestProject) {
  ensureDevVars();
  if (!existsSync("frontend/dist/index.html")) throw new Error("build the UI first (npm run build)");
  stateDir = mkdtempSync(path.join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "paid-inbox-e2e-"));
  const wrangler = "node_modules/.bin/wrangler";
  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], {
    encoding: "utf8",
    env: { ...process.env, CI: "true" },
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}${migrate.stderr}`);
  const port = await freePort();
  // Google and GitHub sign-in against a local fake provider (real HTTP, real redirects).
  providers = await startFakeProviders(FAKE);
  const oauthVars = Object.entries(fakeProviderBindings(providers.url))
    // …and the Telegram rail (its deep link and QR code in Settings → Notifications).
    .filter(([k]) => k.startsWith("GOOGLE_") || k.startsWith("GITHUB_") || k.startsWith("TELEGRAM_"))
    .flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  app = spawn(
    wrangler,
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      stateDir,
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
      "--var",
      `ACCESS_TOKEN_TTL_SECONDS:${ACCESS_TTL_SECONDS}`,
      ...oauthVars,
    ],
    { stdio: ["ignore", "inherit", "inherit"], detached: true },
  );
  // Passkeys refuse IP addresses: browse by name.
  const baseUrl = `http://localhost:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${baseUrl}/health`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error("wrangler dev did not come up in 60 s");
    await new Promise((r) => setTimeout(r, 250));
  }
  browser = await chromium.launchServer({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  project.provide("baseUrl", baseUrl);
  project.provide("wsEndpoint", browser.wsEndpoint());
  project.provide("stateDir", stateDir);
}

export async function teardown() {
  await browser?.close();
  await providers?.close();
  if (app?.pid) {
    try {
      process.kill(-app.pid, "SIGTERM");
    } catch {}
  }
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}
