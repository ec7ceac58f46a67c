// Structured logs, request ids, hashed user ids, and the log-capture check itself.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashUserId } from "../worker/observability/log";
import { api, signUp } from "./helpers";
import { capturedLines, findLeaks } from "./log-capture";

const accessLines = () =>
  capturedLines()
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l))
    .filter((l) => l.msg === "request");

describe("structured request logs", () => {
  it("one JSON line per request: request id, route pattern, status, latency, hashed user", async () => {
    const s = await signUp("obs");
    const res = await api("GET", `/v1/recipients/@${s.handle}`, { token: s.accessToken });
    expect(res.status).toBe(200);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toBeTruthy();
    const line = accessLines().find((l) => l.requestId === requestId);
    expect(line).toMatchObject({
      level: "info",
      method: "GET",
      route: "/v1/recipients/:selector", // the pattern: the handle in the path is not logged
      status: 200,
      user: hashUserId(s.user.id),
    });
    expect(line.latencyMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(line)).not.toContain(s.handle);
    expect(JSON.stringify(line)).not.toContain(s.user.id);
  });

  it("errors carry their code; unknown paths are 'unmatched'", async () => {
    const res = await api("GET", "/v1/nowhere/secret-looking-path");
    expect(res.status).toBe(404);
    const bad = await api("POST", "/v1/messages", { token: "nope", body: { to: "x", body: "hi" } });
    expect(bad.status).toBe(401);
    const lines = accessLines();
    expect(lines.find((l) => l.requestId === res.headers.get("x-request-id"))).toMatchObject({
      route: "(unmatched)",
      status: 404,
    });
    expect(lines.find((l) => l.requestId === bad.headers.get("x-request-id"))).toMatchObject({
      route: "/v1/messages",
      status: 401,
      error: "unauthorized",
    });
  });

  it("captures what Durable Objects write (same isolate) and finds planted leaks", async () => {
    const stub = env.ACCOUNT.getByName("u_logcheck");
    await runInDurableObject(stub, () => {
      console.log("from-the-durable-object");
    });
    expect(capturedLines()).toContain("from-the-durable-object");
    // The checker itself: each kind of leak is found, a clean line is not.
    const planted = [
      "to alice.person@example.com",
      "sms +14155550123 sent",
      "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1XzEyMyJ9.x",
      "authorization: Bearer abcdefghijklmnop",
      "body: my very secret message",
    ];
    const leaks = findLeaks([...planted, '{"msg":"request","status":200}'], ["my very secret message"]);
    expect(leaks.map(([what]) => what)).toEqual(["email", "phone", "jwt", "bearer", "sensitive value"]);
  });
});
