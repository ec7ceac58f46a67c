// Security headers (issue #11): CSP, frame-ancestors 'none', nosniff,
// Referrer-Policy, HSTS outside loopback, no-store on API answers.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import staticHeaders from "../frontend/public/_headers?raw";
import app from "../worker/app";
import { CONTENT_SECURITY_POLICY, HSTS, STATIC_SECURITY_HEADERS } from "../worker/http/security-headers";
import { api, signIn } from "./helpers";

async function fetchAt(url: string, init: RequestInit = {}, vars: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(url, init), { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("security headers", () => {
  it("sets CSP, nosniff, Referrer-Policy and frame denial on every answer, errors included", async () => {
    const s = await signIn();
    for (const res of [
      await api("GET", "/health"),
      await api("GET", "/v1/nope"),
      await api("POST", "/v1/messages", { raw: "{", token: s.accessToken }),
      await api("GET", "/v1/me"),
    ]) {
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toBe(CONTENT_SECURITY_POLICY);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    }
  });

  it("marks API answers no-store, authenticated ones and token answers included", async () => {
    const s = await signIn();
    expect((await api("GET", "/v1/me", { token: s.accessToken })).headers.get("cache-control")).toBe("no-store");
    const refreshed = await api("POST", "/v1/auth/refresh", { body: { refreshToken: s.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get("cache-control")).toBe("no-store");
  });

  it("sends HSTS outside localhost only", async () => {
    expect((await api("GET", "/health")).headers.get("strict-transport-security")).toBeNull();
    expect((await fetchAt("http://localhost:8787/health")).headers.get("strict-transport-security")).toBeNull();
    const prod = await fetchAt(
      "https://paidinbox.example/health",
      {},
      {
        ENVIRONMENT: "production",
        APP_ORIGIN: "https://paidinbox.example",
        ALLOW_SIMULATED_LEDGER: "true",
      },
    );
    expect(prod.status).toBe(200);
    expect(prod.headers.get("strict-transport-security")).toBe(HSTS);
  });

  it("lets a route carry its own policy (the API reference's inline style)", async () => {
    const docs = await fetchAt("http://127.0.0.1:8787/docs");
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-security-policy")).toContain("style-src 'self' 'unsafe-inline'");
    expect(docs.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  it("gives the static web UI the same policy (frontend/public/_headers)", () => {
    expect(staticHeaders).toContain(`Content-Security-Policy: ${CONTENT_SECURITY_POLICY}\n`);
    for (const [name, value] of Object.entries(STATIC_SECURITY_HEADERS)) {
      expect(staticHeaders).toContain(`${name}: ${value}\n`);
    }
    expect(staticHeaders).toContain(`Strict-Transport-Security: ${HSTS}\n`);
  });
});
