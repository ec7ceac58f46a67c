import { defineConfig } from "vite";
import { docsAssets } from "../scripts/vite-docs-assets.mjs";

// Built into frontend/dist, which wrangler serves as static assets.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [docsAssets()],
  build: { outDir: "dist", emptyOutDir: true },
});
