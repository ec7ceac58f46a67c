// Structured logs, request ids, hashed user ids, and the log-capture check itself.
import { env, runInDurableObject } from "cloudflare:test";
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils";
import { HttpRequestError } from "viem";
import { describe, expect, it } from "vitest";
import { vaultFeeBps } from "../worker/chain/vault-fee";
import { errorSummary, hashUserId, metric } from "../worker/observability/log";
import { api, signUp } from "./helpers";
import { capturedLines, findLeaks } from "./log-capture";

const accessLines = () =>
  capturedLines()
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l))
    .filter((l) => l.msg === "request");

describe("structured request logs", () => {
  it("hashed user ids are the first 16 hex of sha256('paid-inbox/log:' + id), stable across calls", () => {
    // The same value as before the native hash and the per-isolate cache, so log lines keep grouping.
    const expected = (id: string) => bytesToHex(sha256(utf8ToBytes(`paid-inbox/log:${id}`))).slice(0, 16);
    for (const id of ["u_abc", "u_01JZ0000000000000000000000", "ü_ñ"]) {
      expect(hashUserId(id)).toBe(expected(id));
      expect(hashUserId(id)).toBe(expected(id));
    }
    expect(hashUserId("u_a")).not.toBe(hashUserId("u_b"));
  });

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

describe("errors in log lines", () => {
  it("errorSummary keeps the name and first line and drops URLs, emails, phones and tokens", () => {
    const rpc = new HttpRequestError({
      url: "https://base-mainnet.example.com/v2/sekrit-rpc-key-123",
      body: { id: 1 },
    });
    expect(rpc.message).toContain("sekrit-rpc-key-123"); // viem quotes the URL it called
    const s = errorSummary(rpc);
    expect(s).toMatch(/^HttpRequestError: /);
    expect(s).not.toContain("sekrit-rpc-key-123");
    const mixed = errorSummary(
      new Error(
        "to ada@example.com / +447700900123 with eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig via bot123456:ABCDEFGH\nsecond line",
      ),
    );
    expect(mixed).toBe("Error: to <email> / <phone> with <jwt> via bot<token>");
    expect(errorSummary("plain")).toBe("Error: plain");
  });

  it("an RPC failure logs no part of the RPC URL's key", async () => {
    const before = capturedLines().length;
    const key = "sekrit-rpc-key-456";
    // Port 9 (discard) on 127.0.0.1 refuses: the read fails the way a down provider does.
    const bps = await vaultFeeBps({
      rpcUrl: `http://127.0.0.1:9/v2/${key}`,
      vault: "0x000000000000000000000000000000000000dEaD",
    });
    expect(bps).toBeNull();
    const lines = capturedLines().slice(before);
    expect(lines.some((l) => l.includes("vault fee read failed"))).toBe(true);
    expect(lines.filter((l) => l.includes(key))).toEqual([]);
  });
});

describe("Analytics Engine metrics", () => {
  it("the METRICS binding exists in the workerd test pool and accepts data points", () => {
    expect(typeof env.METRICS.writeDataPoint).toBe("function");
    expect(() => metric(env, { kind: "send", label: "delivered", amount: 1_025_000n, fee: 25_000n })).not.toThrow();
  });

  it("writes one data point per event in the documented shape (docs/observability.md)", () => {
    const points: AnalyticsEngineDataPoint[] = [];
    const dataset = { writeDataPoint: (p: AnalyticsEngineDataPoint) => points.push(p) } as AnalyticsEngineDataset;
    metric({ METRICS: dataset }, { kind: "send", label: "delivered", amount: 1_025_000n, fee: 25_000n });
    metric({ METRICS: dataset }, { kind: "request", label: "POST /v1/messages", status: 201, latencyMs: 12 });
    expect(points).toEqual([
      { indexes: ["send"], blobs: ["send", "delivered"], doubles: [0, 0, 1_025_000, 25_000, 1] },
      { indexes: ["request"], blobs: ["request", "POST /v1/messages"], doubles: [201, 12, 0, 0, 1] },
    ]);
    // A failing dataset never breaks the request.
    const broken = {
      writeDataPoint: () => {
        throw new Error("down");
      },
    } as unknown as AnalyticsEngineDataset;
    expect(() => metric({ METRICS: broken }, { kind: "refund" })).not.toThrow();
  });
});
