import { describe, expect, it } from "vitest";
import { api, signIn, signUp } from "./helpers";

describe("HTTP basics", () => {
  it("serves /health and the providers list", async () => {
    const health = await api("GET", "/health");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ok: true, version: expect.any(String), mode: "simulated" });
    const providers = await api("GET", "/v1/auth/providers");
    expect(providers.body.methods).toContain("siwe");
  });

  it("serves the OpenAPI document and a readable reference generated from it", async () => {
    const doc = await api("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(["/health", "/v1/auth/siwe/verify", "/v1/me/profile"]),
    );
    const docs = await api("GET", "/docs");
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toContain("text/html");
    // Scalar's viewer over /openapi.json, loaded from our own assets, under a nonce-based CSP.
    const csp = docs.headers.get("content-security-policy") ?? "";
    const nonce = csp.match(/'nonce-([^']+)'/)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(docs.body).toContain(`<script src="/docs-assets/scalar.js" nonce="${nonce}">`);
    expect(docs.body).toContain('"url": "/openapi.json"');
    expect(docs.body).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[^"'\s]*\.(js|css)/); // nothing from a CDN
    const again = await api("GET", "/docs");
    expect(again.headers.get("content-security-policy")).not.toBe(csp); // a fresh nonce per page
  });

  it("documents schemas with examples in the OpenAPI document", async () => {
    const doc = (await api("GET", "/openapi.json")).body;
    const schemas = doc.components.schemas;
    expect(schemas.LaunchReadiness).toBeDefined();
    expect(schemas.AuditCheckpoint.properties.root.example).toBeDefined();
    expect(JSON.stringify(doc.paths["/v1/messages"])).toContain('"example"');
  });

  it("answers malformed JSON with 400 invalid_json", async () => {
    const res = await api("POST", "/v1/auth/siwe/challenge", { raw: '{"address":' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "invalid_json", message: expect.any(String) });
  });

  it("answers wrong types with 400 invalid_request and the issues", async () => {
    const res = await api("POST", "/v1/auth/siwe/challenge", { body: { address: 42 } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_request");
    expect(res.body.issues).toEqual([expect.objectContaining({ path: "address" })]);
  });

  it("answers oversized bodies with 413 payload_too_large", async () => {
    const s = await signIn();
    const res = await api("PUT", "/v1/me/profile", {
      token: s.accessToken,
      body: { bio: "x".repeat(70_000) },
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe("payload_too_large");
  });

  it("answers oversized chunked bodies (no content-length) with 413", async () => {
    const { exports } = await import("cloudflare:workers");
    const chunk = new TextEncoder().encode("x".repeat(16_384));
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 6; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await exports.default.fetch(
      new Request("http://127.0.0.1:8787/v1/auth/siwe/challenge", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: stream,
        // @ts-expect-error workerd needs duplex for streamed request bodies
        duplex: "half",
      }),
    );
    expect(res.status).toBe(413);
  });

  it("answers unknown routes with 404 not_found in the error shape", async () => {
    const res = await api("GET", "/v1/nope");
    expect(res.status).toBe(404);
    expect(res.body.error).toBe("not_found");
  });
});

describe("profile and handles", () => {
  it("sets a handle, stored lowercased, shown in /v1/me", async () => {
    const s = await signIn();
    const handle = `Alice_${Date.now().toString(36)}`;
    const res = await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { handle, displayName: "Alice" } });
    expect(res.status).toBe(200);
    expect(res.body.user.handle).toBe(handle.toLowerCase());
    expect(res.body.user.displayName).toBe("Alice");
    const me = await api("GET", "/v1/me", { token: s.accessToken });
    expect(me.body.user.handle).toBe(handle.toLowerCase());
    expect(me.body.pricing).toMatchObject({
      defaultPrice: "1000000",
      firstContactPrice: "1000000",
      returnDiscountBps: 0,
      settlement: "instant",
    });
  });

  it.each(["ab", "a".repeat(31), "has space", "dash-es", "émoji", "admin", "u_looks_like_an_id", ""])(
    "refuses handle %j",
    async (h) => {
      const s = await signIn();
      const res = await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { handle: h } });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("invalid_handle");
    },
  );

  it("keeps handles unique regardless of case, enforced by the database", async () => {
    const a = await signUp("dup");
    const b = await signIn();
    const res = await api("PUT", "/v1/me/profile", { token: b.accessToken, body: { handle: a.handle.toUpperCase() } });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe("handle_taken");
    // Concurrent claims of one free handle: exactly one wins.
    const c = await signIn();
    const d = await signIn();
    const handle = `race_${Date.now().toString(36)}`;
    const results = await Promise.all(
      [c, d].map((s) => api("PUT", "/v1/me/profile", { token: s.accessToken, body: { handle } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
  });

  it("refuses unknown profile fields and needs a token", async () => {
    const s = await signIn();
    const res = await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { balance: "100" } });
    expect(res.status).toBe(400);
    expect((await api("PUT", "/v1/me/profile", { body: { handle: "nobody" } })).status).toBe(401);
  });
});

describe("configuration", () => {
  it("refuses every request with 503 misconfigured while a required secret is missing, naming it", async () => {
    const { env } = await import("cloudflare:test");
    const app = (await import("../worker/app")).default;
    const broken = { ...env, JWT_SECRET: "", PII_KEY: undefined } as unknown as Env;
    const res = await app.request("/health", {}, broken);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("misconfigured");
    expect(body.message).toContain("JWT_SECRET");
    expect(body.message).toContain("PII_KEY");
    expect(body.message).not.toContain(env.ADMIN_TOKEN);
  });
});
