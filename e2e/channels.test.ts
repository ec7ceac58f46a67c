// Settings → Notifications in a real browser: the consent text gates every
// connect; a webhook's signing secret is shown once and signs the test notice
// (verified here with the Standard Webhooks library); Telegram shows its deep
// link and a QR code; health shows the delivery.
import { createServer, type IncomingHttpHeaders } from "node:http";
import { Webhook } from "standardwebhooks";
import { expect, it } from "vitest";
import { screenshot, signInWithWallet, walletUser } from "./helpers";

it("connects a webhook (secret shown once, signs the test notice) and Telegram (link + QR)", async () => {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/paid-inbox`;
  try {
    const { page } = await walletUser();
    await page.goto("/signin");
    await signInWithWallet(page);
    await page.waitForURL((u) => u.pathname !== "/signin");
    await page.goto("/settings");
    const section = page.getByRole("region", { name: "Notifications" });
    await expect.poll(() => section.getByTestId("consent-text").textContent()).toContain("encrypted");
    const webhook = section.getByTestId("channel-webhook");
    await webhook.getByLabel("Endpoint URL").fill(hookUrl);
    const connect = webhook.getByRole("button", { name: "Connect Webhook" });
    expect(await connect.isDisabled()).toBe(true); // no consent yet
    await section.getByLabel(/I agree/).check();
    await connect.click();
    const secret = (await webhook.getByTestId("signing-secret").textContent()) ?? "";
    expect(secret).toMatch(/^whsec_/);
    await screenshot(page, "settings-notifications");

    await webhook.getByRole("button", { name: "Send test" }).click();
    await webhook.getByText("Test notice sent.").waitFor();
    await expect.poll(() => received.length, { timeout: 20_000 }).toBeGreaterThan(0);
    const event = new Webhook(secret).verify(received[0].body, received[0].headers as Record<string, string>);
    expect(event).toMatchObject({ type: "channel.test" });

    // Shown once: after a reload the secret is gone; health reports the delivery.
    await page.reload();
    await expect
      .poll(async () => (await page.getByTestId("health-webhook").textContent()) ?? "", { timeout: 20_000 })
      .toContain("Last delivered");
    expect(await page.getByTestId("signing-secret").count()).toBe(0);

    const telegram = page.getByTestId("channel-telegram");
    await page.getByLabel(/I agree/).check();
    await telegram.getByRole("button", { name: "Connect Telegram" }).click();
    const link = telegram.getByTestId("telegram-link");
    expect(await link.getAttribute("href")).toMatch(/^https:\/\/t\.me\/\w+\?start=[\w-]{32}$/);
    const qr = telegram.getByRole("img", { name: "QR code of the Telegram link" });
    expect(await qr.locator("path").getAttribute("d")).toMatch(/^M\d+ \d+h1v1h-1z/);
  } finally {
    receiver.close();
  }
});
