// The signed-in inbox beyond one page, in a real browser: the unread badge
// counts the whole inbox (the server's count, not the loaded rows), the escrow
// countdown is each message's own reply-by time, the outbox shows money going
// out as a neutral minus, and Settings lists sessions and signs one out.
import { describe, expect, it } from "vitest";
import { api, apiUser, expectAccessible, installTestWallet, newPage, screenshot, signInWithWallet } from "./helpers";

describe("inbox, outbox and sessions", () => {
  it("unread beyond the first page, own reply-by countdown, spend as −, and revoking a session", async () => {
    const bob = await apiUser("bob", {
      topup: "10000000",
      pricing: {
        defaultPrice: "10000",
        firstContactPrice: "10000",
        returnDiscountBps: 0,
        settlement: "on_reply",
        replyWindowHours: 48,
      },
    });
    const carol = await apiUser("carol", { topup: "50000000" });
    // One token for the batch: concurrent refreshes of one refresh token would look like a replay.
    const send = async (body: string, token?: string) =>
      expect(
        (await api("POST", "/v1/messages", { token: token ?? (await carol.token()), body: { to: bob.handle, body } }))
          .status,
      ).toBe(201);
    // The escrowed one first (oldest), so it is on the second page.
    await send("Pay-on-reply question");
    // Bob now answers within an hour: the message already sent keeps its 48 hours.
    expect(
      (
        await api("PUT", "/v1/me/pricing", {
          token: await bob.token(),
          body: {
            defaultPrice: "10000",
            firstContactPrice: "10000",
            returnDiscountBps: 0,
            settlement: "instant",
            replyWindowHours: 1,
          },
        })
      ).status,
    ).toBe(200);
    const token = await carol.token();
    await Promise.all(Array.from({ length: 21 }, (_, i) => send(`Note ${i + 1}`, token)));
    expect(
      (await api("POST", "/v1/messages", { token: await bob.token(), body: { to: carol.handle, body: "Hi Carol" } }))
        .status,
    ).toBe(201);

    const { context, page } = await newPage();
    await installTestWallet(context, bob.account);
    await page.goto("/signin");
    await signInWithWallet(page);
    await page.waitForURL("**/inbox");
    // 22 unread, though the first page holds 20.
    await page.getByTestId("unread-count").filter({ hasText: /^22$/ }).waitFor();
    await page
      .getByRole("paragraph")
      .filter({ hasText: /^22 unread$/ })
      .waitFor();
    expect(await page.getByRole("list", { name: "Messages" }).getByRole("listitem").count()).toBe(20);
    await page.getByRole("button", { name: /load more/i }).click();
    const escrowed = page.getByRole("link", { name: /Pay-on-reply question/ });
    await escrowed.waitFor();
    // 48 hours from when it was sent (less the seconds since), not Bob's current window.
    expect(await escrowed.textContent()).toMatch(/Held until you reply by .+ \((1 d 23 h|2 d 0 h) left\)/);
    // Held money is not income yet: the word "held" and the pending colour, not income green.
    const held = escrowed.getByTestId("inbox-amount");
    expect(await held.textContent()).toBe("$0.01 held");
    expect(await held.getAttribute("class")).toBe("price-badge held");
    const paid = page.getByRole("link", { name: /Note 21/ }).getByTestId("inbox-amount");
    expect(await paid.getAttribute("class")).toBe("price-badge income");
    const [heldColor, paidColor] = await Promise.all(
      [held, paid].map((l) => l.evaluate((el) => getComputedStyle(el).color)),
    );
    expect(heldColor).not.toBe(paidColor);
    await escrowed.scrollIntoViewIfNeeded();
    await screenshot(page, "inbox-many-unread");
    await expectAccessible(page, "inbox with a held payment");
    await escrowed.click();
    await page.getByText(/is held for you\. Reply by .* \((1 d 23 h|2 d 0 h) left\)/).waitFor();
    await page.getByTestId("unread-count").filter({ hasText: /^21$/ }).waitFor();

    // Money going out: a minus sign and the ordinary ink colour, not income green.
    await page.goto("/outbox");
    const amount = page.getByTestId("outbox-amount").first();
    await amount.waitFor();
    expect(await amount.textContent()).toBe("Amount: −$1.025");
    const [color, ink] = await amount.evaluate((el) => [
      getComputedStyle(el).color,
      getComputedStyle(document.body).color,
    ]);
    expect(color).toBe(ink);

    // Sessions: this browser and the API client that made Bob; sign the other one out.
    await page.goto("/settings");
    const devices = page.getByRole("list", { name: "Signed-in devices" });
    await devices.getByRole("listitem").nth(1).waitFor();
    expect(await devices.getByRole("listitem").count()).toBe(2);
    const here = devices.getByRole("listitem").filter({ hasText: "This device" });
    expect(await here.textContent()).toMatch(/Chrome on Linux/);
    await page.getByRole("heading", { name: "Sessions" }).scrollIntoViewIfNeeded();
    await screenshot(page, "settings-sessions");
    await expectAccessible(page, "settings with sessions");
    await devices.getByRole("button", { name: /^Sign out / }).click();
    await page.getByText("That device is signed out.").waitFor();
    await expect.poll(() => devices.getByRole("listitem").count()).toBe(1);
    // The API client's refresh token no longer works; this browser is still signed in.
    const refused = await api("POST", "/v1/auth/refresh", { body: { refreshToken: bob.session.refreshToken } });
    expect(refused.status).toBe(401);
    await page.reload();
    await page.getByRole("heading", { name: "Settings" }).waitFor();

    // The session ends in the middle of an edit (here: its cookie is gone): the app sends Bob to
    // sign in and back, and what he typed is still there, said to be unsaved, until he saves it.
    await page.getByLabel("Price per message (USDC)").fill("0.5");
    await context.clearCookies();
    await page.reload();
    await page.waitForURL("**/signin?next=%2Fsettings");
    await signInWithWallet(page);
    await page.waitForURL("**/settings");
    await page.getByText("These are your unsaved changes from before.").waitFor();
    expect(await page.getByLabel("Price per message (USDC)").inputValue()).toBe("0.5");
    await page.getByRole("button", { name: "Save prices" }).click();
    await page.getByText("Prices saved.").waitFor();
    await page.getByText("These are your unsaved changes from before.").waitFor({ state: "detached" });
    expect((await api("GET", `/v1/recipients/${bob.handle}`)).body.pricing.defaultPrice).toBe("500000");
    await context.close();
  });
});
