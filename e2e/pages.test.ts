// Every screen at phone and desktop sizes (axe: no serious or critical issues;
// screenshots saved as artifacts), the Worker's page answers (404, favicon,
// link-preview tags), the initial-JS budget, and inbox speed with no waterfall.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { BUDGET_GZIP_BYTES, initialJs } from "../scripts/bundle-budget.mjs";
import {
  api,
  apiUser,
  baseUrl,
  DESKTOP,
  expectAccessible,
  installTestWallet,
  newPage,
  PHONE,
  screenshot,
  signInWithWallet,
} from "./helpers";

/** A user with mail, a sent message and earnings, signed in through the UI. */
async function seeded() {
  const bob = await apiUser("bob", { topup: "50000000" });
  const senders = await Promise.all([apiUser("carol", { topup: "10000000" }), apiUser("dave", { topup: "10000000" })]);
  for (const [i, s] of senders.entries()) {
    const sent = await api("POST", "/v1/messages", {
      token: await s.token(),
      body: { to: bob.handle, body: `Hello Bob, message ${i + 1} from ${s.handle}. Are you free for a call?` },
    });
    expect(sent.status).toBe(201);
  }
  expect(
    (await api("POST", "/v1/messages", { token: await bob.token(), body: { to: senders[0].handle, body: "Thanks!" } }))
      .status,
  ).toBe(201);
  return { bob, senders };
}

async function signedInPage(account: Parameters<typeof installTestWallet>[1], opts: Parameters<typeof newPage>[0]) {
  const { context, page } = await newPage(opts);
  await installTestWallet(context, account);
  // The button says when the page is ready; the load event can lag far behind on a busy machine.
  await page.goto("/signin", { waitUntil: "domcontentloaded" });
  await signInWithWallet(page);
  await page.waitForURL("**/inbox");
  return { context, page };
}

describe("pages", () => {
  it("answers a real 404 for unknown paths, an icon for /favicon.ico, and link-preview tags on /@handle", async () => {
    const html = (path: string) => fetch(`${baseUrl()}${path}`, { headers: { accept: "text/html" } });
    expect((await html("/no/such/page")).status).toBe(404);
    expect((await fetch(`${baseUrl()}/missing.png`)).status).toBe(404);
    expect((await fetch(`${baseUrl()}/assets/missing.js`)).status).toBe(404);
    const icon = await fetch(`${baseUrl()}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toMatch(/icon/);
    for (const path of ["/", "/inbox", "/settings", "/money", "/outbox", "/signin"]) {
      expect((await html(path)).status, path).toBe(200);
    }
    const user = await apiUser("grace");
    await api("PUT", "/v1/me/profile", {
      token: await user.token(),
      body: { displayName: "Grace <Hopper>", bio: 'Compilers & "COBOL"' },
    });
    const page = await (await html(`/@${user.handle}`)).text();
    expect(page).toContain(`<title>Message Grace &lt;Hopper&gt; (@${user.handle}) · Paid Inbox</title>`);
    // Attribute values are escaped for their quotes (a `<` inside a quoted attribute is inert).
    expect(page).toContain(`<meta property="og:title" content="Message Grace <Hopper> (@${user.handle}) · Paid Inbox"`);
    expect(page).toContain(`<meta name="description" content="Compilers & &quot;COBOL&quot;"`);
    expect(page).toContain(`<meta property="og:url" content="${baseUrl()}/@${user.handle}"`);
    expect((await html("/@nobody_here_at_all")).status).toBe(404);

    const { context, page: browserPage } = await newPage();
    const res = await browserPage.goto("/no/such/page");
    expect(res?.status()).toBe(404);
    await browserPage.getByRole("heading", { name: "Page not found" }).waitFor();
    await screenshot(browserPage, "not-found");
    await expectAccessible(browserPage, "404");
    await context.close();
  });

  it("keeps initial JS for / and /@handle within 150 KB gzipped (built files, and what Chromium loads)", async () => {
    const built = initialJs("frontend/dist");
    expect(built.total).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
    const user = await apiUser("heidi");
    for (const path of ["/", `/@${user.handle}`]) {
      const { context, page } = await newPage();
      const scripts: string[] = [];
      page.on("response", (r) => {
        if (r.request().resourceType() === "script") scripts.push(new URL(r.url()).pathname);
      });
      // Every script the first screen needs has loaded once its h1 shows (no need to wait for "load").
      await page.goto(path, { waitUntil: "domcontentloaded" });
      await page.locator("h1").first().waitFor();
      const gz = scripts.reduce((n, s) => n + gzipSync(readFileSync(`frontend/dist${s}`)).length, 0);
      expect(gz, `${path}: ${scripts.join(", ")}`).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
      // viem and uPlot are not part of it.
      expect(scripts.some((s) => /wallet-sign-in|EarningsChart/.test(s))).toBe(false);
      await context.close();
    }
  });

  it("shows the inbox within 1 s of navigation, fetching /v1/me and the inbox in parallel", async () => {
    const { bob } = await seeded();
    const { context, page } = await signedInPage(bob.account, {});
    const times: number[] = [];
    // Five fresh navigations (the first warms the browser's caches, as any second visit would).
    for (let i = 0; i < 5; i++) {
      await page.goto("/money");
      await page.getByRole("heading", { name: "Money" }).waitFor();
      await page.goto("/inbox");
      const first = page.getByRole("link", { name: /Hello Bob, message 2/ });
      await first.waitFor();
      await expect.poll(() => first.isEnabled()).toBe(true);
      // Interactive: the first message is on screen and takes a click; ms since navigation start.
      times.push(await page.evaluate(() => performance.now()));
      // The browser's own resource timings: /v1/me and /v1/inbox overlap (no waterfall).
      const [me, inbox] = await page.evaluate(() =>
        ["/v1/me", "/v1/inbox"].map((p) => {
          const e = performance
            .getEntriesByType("resource")
            .find((r) => new URL(r.name).pathname === p) as PerformanceResourceTiming;
          return { start: e.startTime, end: e.responseEnd };
        }),
      );
      expect(inbox.start, "inbox requested before /v1/me answered").toBeLessThan(me.end);
      expect(me.start, "/v1/me requested before the inbox answered").toBeLessThan(inbox.end);
    }
    const median = [...times].sort((a, b) => a - b)[2];
    console.log(
      `inbox interactive after ${times.map((t) => t.toFixed(0)).join(", ")} ms (median ${median.toFixed(0)})`,
    );
    expect(median).toBeLessThan(1000);
    await page.getByRole("link", { name: /Hello Bob, message 2/ }).click();
    await page.getByText("Hello Bob, message 2").waitFor();
    await context.close();
  });

  for (const [size, viewport] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ] as const) {
    it(`every screen passes axe at ${size} size (${viewport.width}×${viewport.height})`, async () => {
      const { bob, senders } = await seeded();
      // Signed out: landing, sign-in, a profile, 404.
      const visitor = await newPage({ viewport });
      for (const [name, path] of [
        ["landing", "/"],
        ["signin", "/signin"],
        ["profile", `/@${senders[0].handle}`],
        ["not-found", "/nope"],
      ]) {
        // The waits below say when the screen is ready; the load event can lag far behind on a busy machine.
        await visitor.page.goto(path, { waitUntil: "domcontentloaded" });
        await visitor.page.locator("h1").first().waitFor();
        await screenshot(visitor.page, `${size}-${name}`);
        await expectAccessible(visitor.page, `${size} ${name}`);
      }
      await visitor.context.close();

      // Signed in, in dark mode on the phone: every screen of the app.
      const { context, page } = await signedInPage(bob.account, { viewport, dark: size === "phone" });
      const screens: [string, string, string][] = [
        ["inbox", "/inbox", "Inbox"],
        ["outbox", "/outbox", "Sent messages"],
        ["money", "/money", "Money"],
        ["settings", "/settings", "Settings"],
        ["onboarding", "/onboarding", "Set up your paid inbox"],
        ["profile-signed-in", `/@${senders[1].handle}`, senders[1].handle],
      ];
      for (const [name, path, heading] of screens) {
        await page.goto(path, { waitUntil: "domcontentloaded" });
        await page.getByRole("heading", { name: heading }).first().waitFor();
        await page.locator(".state[role=status]").first().waitFor({ state: "detached" });
        if (name === "money") await page.locator(".chart canvas").waitFor();
        await screenshot(page, `${size}-${name}`);
        await expectAccessible(page, `${size} ${name}`);
      }
      await page.goto("/inbox");
      await page.getByRole("link", { name: /Hello Bob, message 1/ }).click();
      await page.getByRole("button", { name: /^Pay .* and send$/ }).waitFor();
      await screenshot(page, `${size}-message`);
      await expectAccessible(page, `${size} message`);
      // Keyboard: on a fresh load the skip link is the first stop and lands on the content.
      await page.reload();
      await page.getByRole("button", { name: /^Pay .* and send$/ }).waitFor();
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
      await page.keyboard.press("Enter");
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
      await context.close();
    });
  }
});
