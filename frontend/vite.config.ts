import { spawnSync } from "node:child_process";
import path from "node:path";
import { defineConfig, type Plugin } from "vite";
import { generateApiTypes } from "../scripts/api-types.mjs";
import { BUDGET_GZIP_BYTES, initialJs } from "../scripts/bundle-budget.mjs";
import { docsAssets } from "../scripts/vite-docs-assets.mjs";

const root = import.meta.dirname;
const repo = path.join(root, "..");

// Generate the typed API client from the app's own routes, then type-check the UI
// against it: a contract change that breaks the UI fails the build.
function apiContract(): Plugin {
  return {
    name: "paid-inbox:api-contract",
    apply: "build",
    async buildStart() {
      await generateApiTypes();
      const tsc = spawnSync(path.join(repo, "node_modules/.bin/tsc"), ["-p", path.join(root, "tsconfig.json")], {
        cwd: repo,
        encoding: "utf8",
      });
      if (tsc.status !== 0) this.error(`the UI does not type-check against the API:\n${tsc.stdout}${tsc.stderr}`);
    },
  };
}

// Initial JS for `/` and `/@handle` must stay within 150 KB gzipped.
function bundleBudget(): Plugin {
  return {
    name: "paid-inbox:bundle-budget",
    apply: "build",
    closeBundle() {
      const { total, files } = initialJs(path.join(root, "dist"));
      if (total > BUDGET_GZIP_BYTES) {
        const list = files.map((f) => `  ${f.url} ${(f.gzip / 1024).toFixed(1)} KB`).join("\n");
        throw new Error(`initial JS is ${(total / 1024).toFixed(1)} KB gzipped, over 150 KB:\n${list}`);
      }
    },
  };
}

// Built into frontend/dist, which the Worker serves (wrangler [assets]).
export default defineConfig({
  root,
  plugins: [apiContract(), bundleBudget(), docsAssets()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: {
      // React Query ships "use client" directives, meaningless in a client-only bundle.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
});
