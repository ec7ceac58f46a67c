// Development-only features (the faucet, the dev OTP outbox) need two things:
// ENVIRONMENT=development and a request to a loopback host. The second guards a
// deployment that forgot its production settings: on a public host these
// features stay off even then.
import { config } from "../config";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function devToolsEnabled(env: Env, requestUrl: string): boolean {
  return config(env).isDevelopment && LOOPBACK.has(new URL(requestUrl).hostname);
}
