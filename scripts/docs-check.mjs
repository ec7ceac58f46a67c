#!/usr/bin/env node
// Opens /docs in Chromium with every non-local request blocked and checks that
// the Scalar reference renders from our own bundle under its CSP: no CDN
// request, no CSP violation, the operations and a schema example visible.
//   node scripts/docs-check.mjs [BASE_URL]
// Without BASE_URL it starts its own `wrangler dev` on a free port with a
// throwaway state directory (a step of `npm test`; needs the built frontend/dist).
import { chromium } from "playwright-core";
import { ensureDevVars } from "./dev-vars.mjs";
import { startWranglerDev } from "./wrangler-dev.mjs";

let stop = async () => {};
let base = process.argv[2]?.replace(/\/$/, "");
if (!base) {
  // A clean clone has no .dev.vars: without its secrets every route answers 503 misconfigured.
  ensureDevVars();
  ({ base, stop } = await startWranglerDev({ prefix: "paid-inbox-docs-" }));
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" });
const problems = [];
try {
  const page = await browser.newPage();
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.hostname === "localhost") return route.continue();
    problems.push(`blocked external request: ${url.origin}`);
    return route.abort();
  });
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text()))
      problems.push(`CSP: ${m.text().slice(0, 200)}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message.slice(0, 200)}`));
  const res = await page.goto(`${base}/docs`, { waitUntil: "load" });
  if (res?.status() !== 200) problems.push(`/docs answered ${res?.status()}: ${(await res?.text())?.slice(0, 200)}`);
  if (!res?.headers()["content-security-policy"]) problems.push("no CSP header on /docs");
  await page.getByText("Liveness").first().waitFor({ timeout: 60_000 });
  // biome-ignore lint/performance/useDomNodeTextContent: what the reader sees is what counts here.
  const text = await page.locator("body").innerText();
  for (const expected of ["Paid Inbox API", "Operations", "Launch readiness", "Liveness"]) {
    if (!text.includes(expected)) problems.push(`missing on the page: ${expected}`);
  }
} catch (err) {
  problems.push(`did not render: ${err.message.split("\n")[0]}`);
} finally {
  await browser.close();
  await stop();
}
if (problems.length) {
  for (const p of [...new Set(problems)]) console.error(`✗ ${p}`);
  process.exit(1);
}
console.log(`✓ ${base}/docs renders Scalar's reference from local assets under its CSP, with no external request`);
