/** Where the API reference viewer's bundle is served from (see scripts/vite-docs-assets.mjs). */
export const DOCS_BUNDLE = "/docs-assets/scalar.js";
