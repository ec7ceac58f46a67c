// GET /docs: Scalar's API reference (schemas, examples, try-it) over our own
// /openapi.json. The viewer's bundle is served from our static assets
// (frontend/dist/docs-assets/scalar.js, copied at build by
// scripts/vite-docs-assets.mjs), so the page works offline and under a CSP that
// allows scripts only from this origin plus the page's one inline bootstrap
// (by nonce). No fonts or scripts from a CDN.
import { Scalar } from "@scalar/hono-api-reference";
import type { Context } from "hono";
import { DOCS_BUNDLE } from "./docs-bundle";

export function docsCsp(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    // The viewer (Vue) sets inline styles and injects style elements.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    // Try-it calls this API on the same origin.
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export async function docsPage(c: Context) {
  const nonce = crypto.randomUUID().replace(/-/g, "");
  const handler = Scalar({
    url: "/openapi.json",
    cdn: DOCS_BUNDLE,
    nonce,
    pageTitle: "Paid Inbox API reference",
    withDefaultFonts: false,
    hideClientButton: false,
    telemetry: false,
  } as Parameters<typeof Scalar>[0]);
  const res = await handler(c, async () => {});
  const out = new Response(res?.body ?? null, res ?? undefined);
  out.headers.set("Content-Security-Policy", docsCsp(nonce));
  out.headers.set("X-Content-Type-Options", "nosniff");
  out.headers.set("Referrer-Policy", "no-referrer");
  return out;
}
