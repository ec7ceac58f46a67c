// Browser-suite helpers: contexts on the shared Chromium, a test EIP-1193 wallet
// backed by a viem local account, Chrome's virtual authenticator, API calls from
// Node for setup, screenshots and axe scans.
import { mkdirSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { expect, inject } from "vitest";

export const baseUrl = () => inject("baseUrl");
export const SCREENSHOTS = ".test-results/screenshots";

let shared: Promise<Browser> | undefined;
export function browser(): Promise<Browser> {
  shared ??= chromium.connect(inject("wsEndpoint"));
  return shared;
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

export async function newPage(
  opts: { viewport?: { width: number; height: number }; dark?: boolean; baseURL?: string } = {},
) {
  const context = await (await browser()).newContext({
    baseURL: opts.baseURL ?? baseUrl(),
    viewport: opts.viewport ?? DESKTOP,
    colorScheme: opts.dark ? "dark" : "light",
  });
  const page = await context.newPage();
  return { context, page };
}

/**
 * A wallet the page discovers through EIP-6963, answering EIP-1193 requests by
 * signing in Node with a viem local account (exposed to the page as a binding).
 */
export async function installTestWallet(context: BrowserContext, account: PrivateKeyAccount) {
  await context.exposeBinding("__testWallet", async (_src, req: { method: string; params?: unknown[] }) => {
    switch (req.method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return [account.address];
      case "eth_chainId":
        return "0x7a69";
      case "personal_sign": {
        const [data, address] = req.params as [`0x${string}`, string];
        if (address.toLowerCase() !== account.address.toLowerCase()) throw new Error("unknown account");
        return account.signMessage({ message: { raw: data } });
      }
      // Chain mode's payment intents (EIP-712). viem's JSON-RPC account sends the typed data as JSON,
      // EIP712Domain included, uint256 values as decimal strings.
      case "eth_signTypedData_v4": {
        const [address, json] = req.params as [string, string];
        if (address.toLowerCase() !== account.address.toLowerCase()) throw new Error("unknown account");
        const { EIP712Domain: _, ...types } = JSON.parse(json).types;
        return account.signTypedData({ ...JSON.parse(json), types });
      }
      default:
        throw new Error(`test wallet: ${req.method} not supported`);
    }
  });
  await context.addInitScript(() => {
    const w = window as unknown as { __testWallet: (r: unknown) => Promise<unknown> };
    const provider = {
      request: (r: { method: string; params?: unknown[] }) => w.__testWallet(r),
      on() {},
      removeListener() {},
    };
    const info = {
      uuid: "6f4c8a2e-0000-4000-8000-7e57wa11e7",
      name: "Test Wallet",
      icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E",
      rdns: "dev.paidinbox.test-wallet",
    };
    const announce = () =>
      window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
    window.addEventListener("eip6963:requestProvider", announce);
    announce();
  });
}

/** Chrome's virtual authenticator (CDP WebAuthn domain) on this page. */
export async function addVirtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

/** Signs the page in with a fresh test wallet (through the UI). */
export async function walletUser(opts: Parameters<typeof newPage>[0] & { account?: PrivateKeyAccount } = {}) {
  const account = opts.account ?? privateKeyToAccount(generatePrivateKey());
  const { context, page } = await newPage(opts);
  await installTestWallet(context, account);
  return { context, page, account };
}

export async function signInWithWallet(page: Page) {
  await page.getByRole("button", { name: "Continue with Test Wallet" }).click();
}

// ── API from Node (test setup only) ─────────────────────────────────────────────

/** A JSON call to the suite's app (or to `base`: e2e/chain.test.ts's own). */
export async function api(method: string, path: string, opts: { token?: string; body?: unknown; base?: string } = {}) {
  const res = await fetch(`${opts.base ?? baseUrl()}${path}`, {
    method,
    headers: {
      ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A user made through the API (JSON tokens): SIWE with a fresh key, a handle, optional funds. */
export async function apiUser(prefix: string, opts: { topup?: string; pricing?: object } = {}) {
  const account = privateKeyToAccount(generatePrivateKey());
  const { body: ch } = await api("POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
  const signature = await account.signMessage({ message: ch.message });
  const { body: s } = await api("POST", "/v1/auth/siwe/verify", { body: { message: ch.message, signature } });
  const handle = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  const token = () => freshToken(s);
  const p = await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { handle, displayName: prefix } });
  expect(p.status).toBe(200);
  if (opts.pricing)
    expect((await api("PUT", "/v1/me/pricing", { token: s.accessToken, body: opts.pricing })).status).toBe(200);
  if (opts.topup) {
    expect(
      (await api("POST", "/v1/payments/topup", { token: s.accessToken, body: { amount: opts.topup } })).status,
    ).toBe(200);
  }
  return { account, handle, id: s.user.id as string, session: s, token };
}

/** Access tokens are short-lived in this suite: refresh through the JSON API when needed. */
async function freshToken(s: { accessToken: string; refreshToken: string; at?: number }): Promise<string> {
  s.at ??= Date.now();
  if (Date.now() - s.at < 3000) return s.accessToken;
  const { body } = await api("POST", "/v1/auth/refresh", { body: { refreshToken: s.refreshToken } });
  s.accessToken = body.accessToken;
  s.refreshToken = body.refreshToken;
  s.at = Date.now();
  return s.accessToken;
}

// ── artifacts and checks ────────────────────────────────────────────────────────

export async function screenshot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

/** axe-core over the whole page: no serious or critical violations. */
export async function expectAccessible(page: Page, name: string) {
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const summary = bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(summary, `${name}: accessibility violations`).toEqual([]);
}

/** No token of any kind in Web Storage. */
export async function expectNoTokensInStorage(page: Page) {
  const stored = await page.evaluate(() => {
    const all: string[] = [];
    for (const s of [localStorage, sessionStorage]) {
      for (let i = 0; i < s.length; i++) {
        const k = s.key(i) as string;
        all.push(`${k}=${s.getItem(k)}`);
      }
    }
    return all;
  });
  for (const entry of stored) {
    expect(entry).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/); // a JWT
    expect(entry.toLowerCase()).not.toMatch(/token|refresh/);
  }
}
