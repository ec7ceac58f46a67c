// Vite plugin: copies Scalar's self-contained API reference bundle into the
// built assets (frontend/dist/docs-assets/scalar.js), so GET /docs works offline
// and under a strict CSP (script-src 'self'): no CDN is ever contacted.
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// The package exports no path to its browser build (package.json "browser" field), so reach it directly.
const BUNDLE = fileURLToPath(
  new URL("../node_modules/@scalar/api-reference/dist/browser/standalone.js", import.meta.url),
);

export function docsAssets() {
  return {
    name: "paid-inbox:docs-assets",
    apply: "build",
    writeBundle(options) {
      const out = path.join(options.dir, "docs-assets");
      mkdirSync(out, { recursive: true });
      copyFileSync(BUNDLE, path.join(out, "scalar.js"));
    },
  };
}
