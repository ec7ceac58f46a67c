import { defineConfig } from "vite";

// Built into frontend/dist, which wrangler serves as static assets.
export default defineConfig({
  root: import.meta.dirname,
  build: { outDir: "dist", emptyOutDir: true },
});
