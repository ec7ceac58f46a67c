// Social sign-in through a real (fake, local) OAuth provider: the browser leaves
// for the provider and comes back through /#/signed-in?code=…; a visitor who left
// from a profile page lands back in the same compose with the draft kept.
import { describe, expect, it } from "vitest";
import { apiUser, expectNoTokensInStorage, newPage } from "./helpers";

describe("social sign-in", () => {
  it("GitHub round trip returns to the same compose, draft kept, cookie session only", async () => {
    const carol = await apiUser("carol");
    const { context, page } = await newPage();
    await page.goto(`/@${carol.handle}`);
    const draft = "Found you through your blog — quick question.";
    await page.getByLabel("Your message").fill(draft);
    await page.getByRole("button", { name: "Sign in to send" }).click();
    await page.getByRole("link", { name: "Continue with GitHub" }).click();
    // Provider → callback → /#/signed-in?code=… → exchange → back to the profile.
    await page.waitForURL(`**/@${carol.handle}`);
    await page.getByRole("button", { name: "Pay $1.025 and send" }).waitFor();
    expect(await page.getByLabel("Your message").inputValue()).toBe(draft);
    const refresh = (await context.cookies()).filter((c) => c.name === "pi_refresh");
    expect(refresh).toHaveLength(2);
    expect(refresh.every((c) => c.httpOnly && c.sameSite === "Strict")).toBe(true);
    await expectNoTokensInStorage(page);
    await context.close();
  });
});
