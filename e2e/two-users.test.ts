// The whole product between two people, in two browser contexts: Alice signs up
// with a passkey, sets a pay-on-reply price and shares her link; Bob opens it,
// writes, signs in inline with his wallet (draft kept), tops up in place, pays;
// Alice sees one unread message, reads it and replies, which releases the escrow.
import { describe, expect, it } from "vitest";
import {
  addVirtualAuthenticator,
  api,
  expectAccessible,
  newPage,
  PHONE,
  screenshot,
  signInWithWallet,
  walletUser,
} from "./helpers";

describe("two users", () => {
  it("onboarding → price → share → pay → unread → read → reply → escrow released", async () => {
    // ── Alice: passkey sign-up and onboarding ──
    const alice = await newPage();
    await addVirtualAuthenticator(alice.page);
    await alice.page.goto("/");
    await screenshot(alice.page, "landing");
    await expectAccessible(alice.page, "landing");
    await alice.page.getByRole("link", { name: "Get your link" }).click();
    await alice.page.getByRole("button", { name: "Create an account with a passkey" }).click();
    await alice.page.waitForURL("**/onboarding");
    const handle = `alice_${Date.now().toString(36)}`;
    await alice.page.getByRole("textbox", { name: "Handle", exact: true }).fill(handle);
    await alice.page.getByLabel("Display name").fill("Alice Example");
    await screenshot(alice.page, "onboarding-handle");
    await expectAccessible(alice.page, "onboarding");
    await alice.page.getByRole("button", { name: "Continue" }).click();

    await alice.page.getByLabel("Price per message (USDC)").fill("2");
    await alice.page.getByLabel("First message price (USDC)").fill("3");
    await alice.page.getByRole("radio", { name: /When I reply/ }).check();
    await alice.page.getByLabel("Reply window (hours)").fill("48");
    await screenshot(alice.page, "onboarding-price");
    await expectAccessible(alice.page, "onboarding price");
    await alice.page.getByRole("button", { name: "Continue" }).click();

    // Verify an email with the code the dev provider "sent".
    const email = `${handle}@example.com`;
    const verifyEmail = alice.page.getByRole("form", { name: "Verify email" });
    await verifyEmail.getByLabel("Email address").fill(email);
    await verifyEmail.getByRole("button", { name: "Send code" }).click();
    await alice.page.getByLabel("6-digit code").waitFor();
    const outbox = await api("GET", `/v1/dev/outbox?to=${encodeURIComponent(email)}`);
    const code = String(outbox.body.items.at(-1).text).match(/\b(\d{6})\b/)?.[1];
    expect(code).toMatch(/^\d{6}$/);
    await alice.page.getByLabel("6-digit code").fill(code as string);
    await alice.page.getByRole("button", { name: "Verify", exact: true }).click();
    await alice.page.getByText("Email address verified.").waitFor();
    await alice.page.getByRole("checkbox", { name: /verified phone number/ }).check();
    await screenshot(alice.page, "onboarding-verify");
    await alice.page.getByRole("button", { name: "Continue" }).click();
    const share = alice.page.getByTestId("share-link");
    const link = (await share.getAttribute("href")) as string;
    expect(link).toMatch(new RegExp(`/@${handle}$`));
    await screenshot(alice.page, "onboarding-share");

    // ── Bob: opens the link on a phone, writes, signs in inline, tops up, pays ──
    const bob = await walletUser({ viewport: PHONE });
    await bob.page.goto(link);
    await bob.page.getByRole("heading", { name: "Alice Example", exact: true }).waitFor();
    expect(await bob.page.title()).toContain("Alice Example");
    await expect.poll(() => bob.page.locator(".price-table").textContent()).toMatch(/First message\s*\$3\.00/);
    await bob.page.getByText(/Paid on reply: .* within 48 hours/).waitFor();
    await screenshot(bob.page, "profile-visitor");
    await expectAccessible(bob.page, "profile (visitor)");
    const draft = "Hi Alice — could you review my pitch deck this week?";
    await bob.page.getByLabel("Your message").fill(draft);
    await bob.page.getByRole("button", { name: "Sign in to send" }).click();
    await signInWithWallet(bob.page);
    // Back in the same compose, draft intact, now with Bob's own quote.
    const pay = bob.page.getByRole("button", { name: "Pay $3.075 and send" });
    await pay.waitFor();
    expect(await bob.page.getByLabel("Your message").inputValue()).toBe(draft);
    await screenshot(bob.page, "profile-quote");
    await pay.click();
    // One state: how much is missing and the top-up, in one alert; no error box beside it.
    await bob.page.getByRole("heading", { name: "Top up to send" }).waitFor();
    expect(await bob.page.getByTestId("shortfall").textContent()).toBe(
      "This message costs $3.075 and your balance is $0.00: you need $3.075 more. Your message stays as it is and goes out once the funds are in.",
    );
    expect(await bob.page.getByRole("alert").count()).toBe(1);
    expect(await bob.page.getByText("Your balance is too low").count()).toBe(0);
    expect(await bob.page.getByText("Error code: insufficient_balance").count()).toBe(0);
    await screenshot(bob.page, "compose-insufficient");
    await expectAccessible(bob.page, "compose, balance too low");
    expect(await bob.page.getByLabel("Your message").inputValue()).toBe(draft);
    // Topping up sends the message the user already chose to pay for: no re-typing, no second click.
    await bob.page.getByRole("button", { name: "Add 4 USDC and send" }).click();
    await bob.page.getByRole("heading", { name: "Delivered — payment held" }).waitFor();
    // The receipt says what this message cost; the next one's price (no longer a first contact) is said apart.
    expect(await bob.page.getByLabel("What you paid for this message").textContent()).toMatch(
      /Held until they reply\s*\$3\.00\s*Fee \(final\)\s*\$0\.075\s*You paid\s*\$3\.075/,
    );
    // Shown only once the price has been asked again (it is no longer a first contact), never the stale one.
    await bob.page
      .getByTestId("next-price")
      .filter({ hasText: /would cost \$2\.05 \(standard price/ })
      .waitFor();
    expect(await bob.page.getByRole("heading", { name: /^Price to message/ }).count()).toBe(0);
    await screenshot(bob.page, "compose-escrowed");
    await expectAccessible(bob.page, "receipt");

    // ── Alice: one unread message, read it, reply ──
    await alice.page.getByRole("link", { name: "Go to your inbox" }).click();
    await alice.page.getByTestId("unread-count").filter({ hasText: /^1$/ }).waitFor();
    await alice.page
      .getByRole("paragraph")
      .filter({ hasText: /^1 unread$/ })
      .waitFor();
    await screenshot(alice.page, "inbox");
    await expectAccessible(alice.page, "inbox");
    await alice.page.getByRole("link", { name: /Hi Alice/ }).click();
    await alice.page.getByText(draft).waitFor();
    await alice.page.getByText(/is held for you\. Reply by/).waitFor();
    await alice.page.getByTestId("unread-count").waitFor({ state: "detached" });
    await screenshot(alice.page, "message");
    await expectAccessible(alice.page, "message");
    await alice.page.getByLabel("Your message").fill("Happy to. Send it over!");
    // The first reply to a pay-on-reply message is free: it is what releases the payment.
    await alice.page.getByText("Your reply is free, and it releases the $3.00 held for you.").waitFor();
    await alice.page.getByRole("button", { name: "Send for free" }).click();
    await alice.page.getByRole("heading", { name: "Delivered", exact: true }).waitFor();
    await alice.page.getByText("It was free.").waitFor();
    await screenshot(alice.page, "reply-sent");
    // The reply released the escrow: Alice was paid, Bob's outbox says so.
    await expect
      .poll(
        async () => {
          await alice.page.reload();
          await alice.page.getByText(draft).waitFor();
          return alice.page.getByText(/You replied: \$3\.00 was paid to you/).count();
        },
        { timeout: 20_000, interval: 1000 },
      )
      .toBe(1);
    await bob.page.getByRole("link", { name: "See your sent messages" }).click();
    await expect
      .poll(
        async () => {
          await bob.page.reload();
          return bob.page.getByTestId("outbox-status").first().textContent();
        },
        { timeout: 20_000, interval: 1000 },
      )
      .toBe("Replied · paid");
    await screenshot(bob.page, "outbox");
    await expectAccessible(bob.page, "outbox");
    await alice.page.goto("/money");
    await alice.page.getByRole("cell", { name: "Paid on reply" }).first().waitFor();
    // The chart's readout: the total until a point is hovered, then that point's date and running total.
    const readout = alice.page.getByTestId("chart-readout");
    await readout.filter({ hasText: "$3.00 earned in total" }).waitFor();
    const plot = alice.page.locator(".chart .u-over");
    const box = (await plot.boundingBox()) as { width: number; height: number };
    await plot.hover({ position: { x: box.width - 2, y: box.height / 2 } });
    await readout.filter({ hasText: /^\w{3} \d{1,2}, \d{4}, \d{1,2}:\d\d\s?[AP]M: \$3\.00 earned by then$/ }).waitFor();
    await plot.hover({ position: { x: 2, y: box.height / 2 } });
    await readout.filter({ hasText: /\d{4}, .*: \$0\.00 earned by then$/ }).waitFor();
    await screenshot(alice.page, "money");
    await alice.context.close();
    await bob.context.close();
  });
});
