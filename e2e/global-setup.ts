// One app for the whole browser suite: `wrangler dev` on a free port with its state
// in a throwaway directory (tmpfs when there is one), D1 migrations applied first,
// and one Chromium that every test file connects to.
import { existsSync } from "node:fs";
import { type BrowserServer, chromium } from "playwright-core";
import type { TestProject } from "vitest/node";
import { ensureDevVars } from "../scripts/dev-vars.mjs";
import { startWranglerDev } from "../scripts/wrangler-dev.mjs";
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

let app: Awaited<ReturnType<typeof startWranglerDev>> | undefined;
let providers: { url: string; close: () => Promise<void> } | undefined;
let browser: BrowserServer | undefined;

export async function setup(project: TestProject) {
  ensureDevVars();
  if (!existsSync("frontend/dist/index.html")) throw new Error("build the UI first (npm run build)");
  // Google and GitHub sign-in against a local fake provider (real HTTP, real redirects).
  providers = await startFakeProviders(FAKE);
  const oauthVars = Object.fromEntries(
    Object.entries(fakeProviderBindings(providers.url))
      // …and the Telegram rail (its deep link and QR code in Settings → Notifications).
      .filter(([k]) => k.startsWith("GOOGLE_") || k.startsWith("GITHUB_") || k.startsWith("TELEGRAM_")),
  );
  app = await startWranglerDev({
    vars: { ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TTL_SECONDS), ...oauthVars },
    args: ["--show-interactive-dev-session=false", "--log-level", "warn"],
    stdio: ["ignore", "inherit", "inherit"],
    prefix: "paid-inbox-e2e-",
    timeoutMs: 60_000,
  });
  // Passkeys refuse IP addresses: browse by name.
  const baseUrl = `http://localhost:${app.port}`;
  browser = await chromium.launchServer({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  project.provide("baseUrl", baseUrl);
  project.provide("wsEndpoint", browser.wsEndpoint());
  project.provide("stateDir", app.state);
}

export async function teardown() {
  await browser?.close();
  await providers?.close();
  await app?.stop();
}
