// Browser suite: Debian's Chromium (playwright-core) against one real `wrangler
// dev` started by the global setup (throwaway state on tmpfs, migrations applied).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.test.ts"],
    globalSetup: ["./e2e/global-setup.ts"],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    // Two files at a time: this machine has two cores, and workerd + Chromium share them.
    maxWorkers: 2,
  },
});
