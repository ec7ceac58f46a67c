// Every admin route (/v1/ops/*, /v1/compliance/*, found in the OpenAPI document so
// a new one cannot be forgotten) refuses a missing or wrong token with 401 and a
// user's access token with 403, and answers the admin token.

import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, signUp } from "./helpers";

async function adminRoutes(): Promise<{ method: string; path: string }[]> {
  const doc = (await api("GET", "/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
  const out: { method: string; path: string }[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!/^\/v1\/(ops|compliance)\//.test(path)) continue;
    for (const method of Object.keys(ops))
      out.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, "u_nobody") });
  }
  return out;
}

describe("admin routes", () => {
  it("refuse a missing, wrong or user token (401/403) and accept the admin token", async () => {
    const user = await signUp("adm");
    const routes = await adminRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(2);
    for (const r of routes) {
      const body = r.method === "GET" ? undefined : {};
      const none = await api(r.method, r.path, { body });
      expect(none.status, `${r.method} ${r.path} without token`).toBe(401);
      const wrong = await api(r.method, r.path, { body, token: `${env.ADMIN_TOKEN}x` });
      expect(wrong.status, `${r.method} ${r.path} wrong token`).toBe(401);
      const short = await api(r.method, r.path, { body, token: "a" });
      expect(short.status, `${r.method} ${r.path} short token`).toBe(401);
      const asUser = await api(r.method, r.path, { body, token: user.accessToken });
      expect(asUser.status, `${r.method} ${r.path} user token`).toBe(403);
      expect(asUser.body.error).toBe("forbidden");
      const admin = await api(r.method, r.path, { body, token: env.ADMIN_TOKEN });
      expect([401, 403], `${r.method} ${r.path} admin token`).not.toContain(admin.status);
    }
  });
});
