import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** Base URL of the fake OAuth/SMS/email provider (test/fakes/provider-server.mjs). */
      FAKE_PROVIDER_URL: string;
    }
  }
}
