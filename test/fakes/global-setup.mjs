// Vitest globalSetup (runs in Node): starts the fake OAuth/SMS/email provider on
// 127.0.0.1 and provides its URL; vitest.config.ts turns it into Worker bindings.
import { FAKE } from "./credentials.ts";
import { startFakeProviders } from "./provider-server.mjs";

/** @param {import("vitest/node").TestProject} project */
export default async function setup(project) {
  const server = await startFakeProviders(FAKE);
  project.provide("fakeProviderUrl", server.url);
  return () => server.close();
}
