// Every screen at phone and desktop sizes (axe: no serious or critical issues;
// screenshots saved as artifacts), the Worker's page answers (404, favicon,
// link-preview tags), the initial-JS budget, and inbox speed with no waterfall.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import type { Page } from "playwright-core";
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

/**
 * Sent messages that did not end as paid: an escrow refunded because no reply came in
 * time, a send that never arrived (aborted), and a chain payment that failed. The server
 * reaches these only after an hour-long reply window or a crash mid-send (their
 * behaviour is tested in test/escrow.test.ts, test/crash-safety.test.ts and
 * test/chain-relayer.test.ts); here the real outbox answer gets copies of its row in
 * those states, so the screenshots show how the page words them at this size.
 */
async function outcomes(page: Page, size: string) {
  await page.route("**/v1/outbox?*", async (route) => {
    const res = await route.fetch();
    const json = await res.json();
    const [m] = json.messages;
    const as = (status: string, n: number, extra: object = {}) => ({
      ...m,
      ...extra,
      status,
      messageId: `0x${String(n).repeat(64)}`,
    });
    json.messages = [
      as("refunded", 1),
      as("aborted", 2),
      as("payment_failed", 3, { failure: "InsufficientBalance" }),
      ...json.messages,
    ];
    await route.fulfill({ response: res, json });
  });
  await page.goto("/outbox", { waitUntil: "domcontentloaded" });
  const rows = page.getByRole("list", { name: "Sent messages" }).getByRole("listitem");
  await rows.nth(3).waitFor();
  const row = async (i: number) => [
    await rows.nth(i).getByTestId("outbox-amount").textContent(),
    await rows.nth(i).getByTestId("outbox-status").textContent(),
    await rows.nth(i).getByTestId("outbox-outcome").textContent(),
  ];
  // What happened and what came back, in words; the amount is what it cost in the end.
  expect(await row(0)).toEqual([
    "Amount: −$0.025",
    "No reply in time · refunded",
    "They didn't reply in time, so the $1.00 price came back to you. The $0.025 fee is kept.",
  ]);
  expect(await row(1)).toEqual([
    "Amount: $0.00",
    "Not delivered · refunded",
    "It didn't reach them, so all $1.025 came back to you.",
  ]);
  expect(await row(2)).toEqual([
    "Amount: $0.00",
    "Payment failed · not charged",
    "The payment failed because your vault balance no longer covered it (a withdrawal came first). You were not charged.",
  ]);
  // Nothing runs off the side: every row fits the viewport's width.
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true);
  await screenshot(page, `${size}-outbox-refunded`);
  await expectAccessible(page, `${size} outbox with refunds`);
  await page.unroute("**/v1/outbox?*");
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

  // Speed, measured so that a loaded machine slows the test but cannot fail it or skip it:
  // - what the page does is checked exactly, without a clock: before the inbox is
  //   interactive it makes three API requests and no more (the cookie refresh, /v1/me,
  //   /v1/inbox), and the inbox screen's code is fetched alongside the refresh (preloaded),
  //   not after it. No waterfall is checked by holding each of /v1/me and /v1/inbox
  //   unanswered until the other has been asked for: a page that waited for one before
  //   asking for the other would never get there. (Comparing resource timings instead
  //   failed now and then on a busy machine, by under a millisecond.)
  // - the time is held to the 1 s target, or to 2.5× a baseline measured in the same run
  //   when that is more: opening a profile page, which does the same kind of work (the
  //   cookie refresh, then an authenticated API read, then a first render) on the same
  //   browser and server. Measured here, the inbox takes 1.7–2.0× that baseline whether
  //   the machine is idle (baseline 300–400 ms, so the 1 s target is what binds) or busy
  //   (baseline 550 ms+, both slow alike); 2.5× leaves room for noise, not for a slow
  //   query or an extra round trip on an idle machine.
  it("shows the inbox within 1 s (or 2.5× a same-run baseline), three requests, no waterfall", async () => {
    const { bob, senders } = await seeded();
    const { context, page } = await signedInPage(bob.account, {});
    const inboxTimes: number[] = [];
    const baseTimes: number[] = [];
    const openInbox = async () => {
      await page.goto("/inbox");
      const first = page.getByRole("link", { name: /Hello Bob, message 2/ });
      await first.waitFor();
      await expect.poll(() => first.isEnabled()).toBe(true);
      // Interactive: the first message is on screen and takes a click; ms since navigation start.
      return page.evaluate(() => performance.now());
    };

    // No waterfall: /v1/me and /v1/inbox are each held until the other has been requested.
    const asked = new Set<string>();
    const waiters: (() => void)[] = [];
    const isPair = (url: URL) => url.pathname === "/v1/me" || url.pathname === "/v1/inbox";
    const onRequest = (r: { url(): string }) => {
      const path = new URL(r.url()).pathname;
      if (path !== "/v1/me" && path !== "/v1/inbox") return;
      asked.add(path);
      for (const wake of waiters.splice(0)) wake();
    };
    page.on("request", onRequest);
    let heldUntilBoth = true;
    await page.route(isPair, async (route) => {
      const deadline = Date.now() + 10_000;
      while (asked.size < 2 && Date.now() < deadline) {
        await new Promise<void>((wake) => {
          waiters.push(wake);
          setTimeout(wake, 250);
        });
      }
      if (asked.size < 2) heldUntilBoth = false;
      await route.continue();
    });
    asked.clear();
    await openInbox();
    expect(heldUntilBoth, "/v1/me and /v1/inbox were asked for together").toBe(true);
    await page.unroute(isPair);
    page.off("request", onRequest);

    // Five timed visits of each, alternating (the first warms the browser's caches, as any second visit would).
    for (let i = 0; i < 5; i++) {
      await page.goto(`/@${senders[0].handle}`);
      await page.getByRole("button", { name: /^Pay .* and send$/ }).waitFor();
      baseTimes.push(await page.evaluate(() => performance.now()));

      const interactive = await openInbox();
      inboxTimes.push(interactive);
      const seen = await page.evaluate(
        (before) =>
          (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
            .filter((r) => r.startTime < before)
            .map((r) => ({ path: new URL(r.name).pathname, start: r.startTime, end: r.responseEnd })),
        interactive,
      );
      const calls = seen.filter((r) => r.path.startsWith("/v1/"));
      expect(calls.map((r) => r.path).sort(), "API requests before the inbox is interactive").toEqual([
        "/v1/auth/refresh",
        "/v1/inbox",
        "/v1/me",
      ]);
      // The inbox screen's code was on its way while the session was being restored.
      const refresh = calls.find((r) => r.path === "/v1/auth/refresh") as (typeof calls)[number];
      const chunk = seen.find((r) => /\/assets\/Inbox-[\w-]+\.js$/.test(r.path));
      expect(chunk, "the Inbox chunk").toBeDefined();
      expect((chunk as (typeof seen)[number]).start).toBeLessThan(refresh.end);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2];
    const budget = Math.max(1000, 2.5 * median(baseTimes));
    console.log(
      `inbox interactive after ${inboxTimes.map((t) => t.toFixed(0)).join(", ")} ms (median ${median(inboxTimes).toFixed(0)}); ` +
        `profile baseline ${baseTimes.map((t) => t.toFixed(0)).join(", ")} ms (median ${median(baseTimes).toFixed(0)}); budget ${budget.toFixed(0)} ms`,
    );
    expect(median(inboxTimes)).toBeLessThan(budget);
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
        await visitor.page.locator(".state[role=status]").first().waitFor({ state: "detached" });
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
      await outcomes(page, size);
      await page.goto("/inbox", { waitUntil: "domcontentloaded" });
      await page.getByRole("link", { name: /Hello Bob, message 1/ }).click();
      await page.getByRole("button", { name: /^Pay .* and send$/ }).waitFor();
      await screenshot(page, `${size}-message`);
      await expectAccessible(page, `${size} message`);
      // Keyboard: on a fresh load the skip link is the first stop and lands on the content.
      await page.reload({ waitUntil: "domcontentloaded" });
      await page.getByRole("button", { name: /^Pay .* and send$/ }).waitFor();
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
      await page.keyboard.press("Enter");
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
      await context.close();
    });
  }
});
