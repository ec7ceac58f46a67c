// What goes wrong while paying, in a real browser: the price changed since the
// quote, the recipient blocked the sender, the API is unreachable, a double
// click. Each shows its message in words and the draft is never lost.
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { api, apiUser, installTestWallet, newPage, screenshot, signInWithWallet } from "./helpers";

async function bobInBrowser() {
  const bob = await apiUser("bob", { topup: "20000000" });
  const { context, page } = await newPage();
  await installTestWallet(context, bob.account);
  await page.goto("/signin");
  await signInWithWallet(page);
  await page.waitForURL("**/inbox");
  return { bob, context, page };
}

async function compose(page: Page, handle: string, draft: string) {
  await page.goto(`/@${handle}`);
  await page.getByLabel("Your message").fill(draft);
  await page.getByRole("button", { name: /^Pay .* and send$/ }).waitFor();
}

const draftOf = (page: Page) => page.getByLabel("Your message").inputValue();

describe("payment errors", () => {
  it("price changed since the quote: nothing charged, the new total shown, the draft kept", async () => {
    const carol = await apiUser("carol");
    const { context, page } = await bobInBrowser();
    const draft = "Quick question about your talk";
    await compose(page, carol.handle, draft);
    await page.getByRole("button", { name: "Pay $1.025 and send" }).waitFor();
    const raised = await api("PUT", "/v1/me/pricing", {
      token: await carol.token(),
      body: { defaultPrice: "2000000", firstContactPrice: "2000000", returnDiscountBps: 0, settlement: "instant" },
    });
    expect(raised.status).toBe(200);
    await page.getByRole("button", { name: "Pay $1.025 and send" }).click();
    await page.getByText("The price changed from $1.00 to $2.00 since you saw it. Nothing was charged.").waitFor();
    expect(await draftOf(page)).toBe(draft);
    await screenshot(page, "compose-price-changed");
    // The user confirms the new total explicitly.
    await page.getByRole("button", { name: "Pay $2.05 and send" }).click();
    await page.getByRole("heading", { name: "Delivered", exact: true }).waitFor();
    await context.close();
  });

  it("blocked sender: told in words, not charged, draft kept", async () => {
    const { bob, context, page } = await bobInBrowser();
    const dave = await apiUser("dave");
    expect((await api("PUT", `/v1/me/blocklist/${bob.handle}`, { token: await dave.token() })).status).toBe(204);
    const draft = "Let me in?";
    await compose(page, dave.handle, draft);
    await page.getByRole("button", { name: /^Pay .* and send$/ }).click();
    await page.getByText("This person isn't accepting messages from you. You were not charged.").waitFor();
    await page.getByText("Error code: sender_blocked").waitFor();
    expect(await draftOf(page)).toBe(draft);
    await screenshot(page, "compose-blocked");
    await context.close();
  });

  it("offline API: says so, keeps the draft, and the retry sends exactly once", async () => {
    const erin = await apiUser("erin");
    const { context, page } = await bobInBrowser();
    const draft = "Sent from a train";
    await compose(page, erin.handle, draft);
    await context.setOffline(true);
    await page.getByRole("button", { name: /^Pay .* and send$/ }).click();
    await page
      .getByText("Paid Inbox can't be reached. Check your connection and try again — nothing was lost.")
      .waitFor();
    expect(await draftOf(page)).toBe(draft);
    await screenshot(page, "compose-offline");
    await context.setOffline(false);
    // A double click on the retry: one Idempotency-Key per draft, so one message and one charge.
    await page.getByRole("button", { name: /^Pay .* and send$/ }).dblclick();
    await page.getByRole("heading", { name: "Delivered", exact: true }).waitFor();
    const inbox = await api("GET", "/v1/inbox", { token: await erin.token() });
    expect(inbox.body.messages.filter((m: { body: string }) => m.body === draft)).toHaveLength(1);
    await context.close();
  });
});
