// Browser suite: Debian's Chromium (playwright-core) against one real `wrangler
// dev` started by the global setup (throwaway state on tmpfs, migrations applied).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.test.ts"],
    globalSetup: ["./e2e/global-setup.ts"],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    // One file at a time: workerd and Chromium already use both cores, and the inbox
    // timing test must not share the machine with another flow of this suite.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
