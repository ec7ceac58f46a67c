// A JSON-RPC proxy in front of a test anvil, for the indexer's chaos tests: real HTTP
// that can go down (every call, or eth_getLogs after N good ones) or answer every
// eth_getLogs with each log twice. Controlled over HTTP by the tests (in workerd):
//   POST /__control {down?: bool, failGetLogsAfter?: number | null, duplicateLogs?: bool}
import { createServer } from "node:http";

export async function startRpcProxy(target) {
  let state = { down: false, failGetLogsAfter: null, duplicateLogs: false };
  let getLogsSeen = 0;
  const server = createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const reply = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    if (req.url === "/__control") {
      state = { down: false, failGetLogsAfter: null, duplicateLogs: false, ...JSON.parse(raw || "{}") };
      getLogsSeen = 0;
      return reply(200, { ok: true });
    }
    const call = JSON.parse(raw || "{}");
    const methods = Array.isArray(call) ? call.map((c) => c.method) : [call.method];
    const isGetLogs = methods.includes("eth_getLogs");
    if (state.down) return reply(503, "rpc down");
    if (isGetLogs && state.failGetLogsAfter !== null && getLogsSeen++ >= state.failGetLogsAfter) {
      return reply(503, "rpc down");
    }
    const upstream = await fetch(target, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: raw,
    });
    let text = await upstream.text();
    if (isGetLogs && state.duplicateLogs && !Array.isArray(call)) {
      const body = JSON.parse(text);
      if (Array.isArray(body.result)) body.result = body.result.flatMap((l) => [l, l]);
      text = JSON.stringify(body);
    }
    reply(upstream.status, text);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}
