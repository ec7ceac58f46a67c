// Sign-in in a real browser: passkeys through Chrome's virtual authenticator,
// SIWE through a test EIP-1193 wallet, the refresh cookie's flags, no tokens in
// Web Storage, and the silent refresh of an expired access token.
import { describe, expect, it } from "vitest";
import { ACCESS_TTL_SECONDS } from "./global-setup";
import {
  addVirtualAuthenticator,
  api,
  apiUser,
  expectNoTokensInStorage,
  newPage,
  screenshot,
  signInWithWallet,
  walletUser,
} from "./helpers";

describe("sign-in", () => {
  it("registers a passkey, signs out, and signs back in with it (virtual authenticator)", async () => {
    const { context, page } = await newPage();
    const { cdp, authenticatorId } = await addVirtualAuthenticator(page);
    await page.goto("/signin");
    await screenshot(page, "signin");
    await page.getByRole("button", { name: "Create an account with a passkey" }).click();
    // A new account has no handle yet: onboarding comes first.
    await page.waitForURL("**/onboarding");
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0].isResidentCredential).toBe(true);

    // The refresh cookie: HttpOnly, SameSite=Strict, only on the refresh and logout paths.
    const cookies = await context.cookies();
    const refresh = cookies.filter((c) => c.name === "pi_refresh");
    expect(refresh.map((c) => c.path).sort()).toEqual(["/v1/auth/logout", "/v1/auth/refresh"]);
    for (const c of refresh) {
      expect(c.httpOnly).toBe(true);
      expect(c.sameSite).toBe("Strict");
      expect(c.secure).toBe(false); // http://localhost; Secure everywhere else
    }
    expect(await page.evaluate(() => document.cookie)).not.toContain("pi_refresh");
    await expectNoTokensInStorage(page);

    // Pick a handle so the account lands in its inbox next time.
    await page.getByRole("textbox", { name: "Handle", exact: true }).fill(`pk_${Date.now().toString(36)}`);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: "Set your price" }).waitFor();
    await page.goto("/inbox");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((u) => u.pathname === "/");
    expect((await context.cookies()).filter((c) => c.name === "pi_refresh")).toHaveLength(0);

    await page.goto("/signin");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForURL("**/inbox");
    await page.getByRole("heading", { name: "Inbox" }).waitFor();
    const { credentials: after } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(after[0].signCount).toBeGreaterThan(credentials[0].signCount);
    await expectNoTokensInStorage(page);
    await context.close();
  });

  it("signs in with a wallet (EIP-6963 + EIP-1193, SIWE) and survives a reload without any stored token", async () => {
    const { context, page, account } = await walletUser();
    await page.goto("/signin");
    await signInWithWallet(page);
    await page.waitForURL("**/onboarding");
    await page.goto("/settings");
    await page.getByText(account.address).waitFor();
    // A reload keeps the session: the HttpOnly cookie is traded for a new in-memory token.
    await page.reload();
    await page.getByText(account.address).waitFor();
    await expectNoTokensInStorage(page);
    await context.close();
  });

  it("refreshes an expired access token silently: the draft is sent, no sign-in prompt", async () => {
    const bob = await apiUser("bob");
    const { context, page } = await walletUser();
    await page.goto(`/@${bob.handle}`);
    await page.getByLabel("Your message").fill("Hello after a coffee break");
    await page.getByRole("button", { name: "Sign in to send" }).click();
    await signInWithWallet(page);
    await page.getByRole("button", { name: /^Pay \$1\.025 and send$/ }).waitFor();
    const refreshes: string[] = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/v1/auth/refresh")) refreshes.push(r.url());
    });
    // Let the access token expire.
    await page.waitForTimeout((ACCESS_TTL_SECONDS + 1) * 1000);
    await page.getByRole("button", { name: /^Pay .* and send$/ }).click();
    // Insufficient funds is the expected answer (a real authenticated call), not "sign in again".
    await page.getByRole("heading", { name: "Top up to send" }).waitFor();
    expect(refreshes.length).toBeGreaterThan(0);
    expect(await page.getByLabel("Your message").inputValue()).toBe("Hello after a coffee break");
    expect(await page.getByText("Your session has ended").count()).toBe(0);
    await context.close();
  });
});

describe("code sign-in", () => {
  it("signs in with an emailed code (the dev provider's outbox) into a cookie session", async () => {
    const { context, page } = await newPage();
    const email = `code_${Date.now().toString(36)}@example.com`;
    await page.goto("/signin");
    await page.getByText("Use an email or phone code instead").click();
    await page.getByLabel("Email address").fill(email);
    await page.getByRole("button", { name: "Send me a code" }).click();
    await page.getByRole("textbox", { name: "Sign-in code" }).waitFor();
    const outbox = await api("GET", `/v1/dev/outbox?to=${encodeURIComponent(email)}`);
    const code = String(outbox.body.items.at(-1).text).match(/\b(\d{6})\b/)?.[1] as string;
    await page.getByRole("textbox", { name: "Sign-in code" }).fill(code);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL("**/onboarding");
    expect((await context.cookies()).filter((c) => c.name === "pi_refresh" && c.httpOnly)).toHaveLength(2);
    await expectNoTokensInStorage(page);
    await context.close();
  });
});
