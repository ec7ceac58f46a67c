// Fake notification providers for the rails tests, served by provider-server.mjs:
// Telegram Bot API (/telegram/bot<token>/<method>), WhatsApp Cloud API
// (/whatsapp/<phone number id>/messages), X (/x/2/dm_conversations/with/<id>/messages,
// plus OAuth 2.0 for account linking) and user webhook receivers (/hooks/<name>).
//
// Every request is recorded under a key — `tg:<chat id>`, `wa:<to>`, `x:<user id>`,
// `hook:<name>` — with its headers and raw body (GET /_fake/rails/requests?key=).
// Tests script a key's answers with POST /_fake/rails/script {key, responses: [...],
// otherwise?}: each request takes the next scripted answer ({status, body?, headers?}),
// then `otherwise` (or the provider's normal success) once the list is used up.
// An answer `{hang: true}` never comes: the request is held until the caller gives up
// (the rails' provider timeout), and is recorded with status 0.
import { randomBytes } from "node:crypto";

const b64url = (buf) => Buffer.from(buf).toString("base64url");

export function railsFakes(creds) {
  const requests = []; // {key, method, path, headers, body, status, at}
  const scripts = new Map(); // key -> {responses: [], otherwise}
  const xCodes = new Map(); // code -> {redirectUri, challenge, sub, used}
  const xTokens = new Map(); // access token -> sub

  function answer(key, success) {
    const s = scripts.get(key);
    if (s?.responses.length) return s.responses.shift();
    return s?.otherwise ?? success;
  }

  function respond(res, a) {
    if (a.hang) return; // held open; closed when the caller aborts
    const body = a.body === undefined ? "" : typeof a.body === "string" ? a.body : JSON.stringify(a.body);
    res.writeHead(a.status, { "content-type": "application/json", ...(a.headers ?? {}) });
    res.end(body);
  }

  function record(key, req, raw, status) {
    requests.push({
      key,
      method: req.method,
      path: req.url,
      headers: req.headers,
      body: raw,
      status: status ?? 0,
      at: Date.now(),
    });
  }

  /** Handles a rails request; false when the path is not ours. */
  return async function handle(req, res, url, readBody) {
    const path = url.pathname;

    if (req.method === "POST" && path === "/_fake/rails/script") {
      const { key, responses = [], otherwise } = JSON.parse(await readBody(req));
      scripts.set(key, { responses: [...responses], otherwise });
      respond(res, { status: 204 });
      return true;
    }
    if (req.method === "GET" && path === "/_fake/rails/requests") {
      const key = url.searchParams.get("key");
      respond(res, { status: 200, body: { items: requests.filter((r) => !key || r.key === key) } });
      return true;
    }

    const tg = path.match(/^\/telegram\/bot([^/]+)\/(\w+)$/);
    if (req.method === "POST" && tg) {
      const raw = await readBody(req);
      if (tg[1] !== creds.telegram.token) {
        respond(res, { status: 401, body: { ok: false, error_code: 401, description: "Unauthorized" } });
        return true;
      }
      const body = JSON.parse(raw);
      const key = `tg:${body.chat_id}`;
      const a = answer(key, { status: 200, body: { ok: true, result: { message_id: requests.length + 1 } } });
      record(key, req, raw, a.status);
      respond(res, a);
      return true;
    }

    const wa = path.match(/^\/whatsapp\/([^/]+)\/messages$/);
    if (req.method === "POST" && wa) {
      const raw = await readBody(req);
      if (wa[1] !== creds.whatsapp.phoneNumberId || req.headers.authorization !== `Bearer ${creds.whatsapp.token}`) {
        respond(res, { status: 401, body: { error: { message: "Invalid OAuth access token", code: 190 } } });
        return true;
      }
      const body = JSON.parse(raw);
      const key = `wa:${body.to}`;
      const ok = body.messaging_product === "whatsapp" && body.type === "template" && body.template?.name;
      const a = ok
        ? answer(key, {
            status: 200,
            body: { messaging_product: "whatsapp", messages: [{ id: `wamid.${b64url(randomBytes(12))}` }] },
          })
        : { status: 400, body: { error: { message: "template required", code: 131047 } } };
      record(key, req, raw, a.status);
      respond(res, a);
      return true;
    }

    // X: OAuth 2.0 (PKCE) for linking, then DMs from the bot account.
    if (req.method === "GET" && path === "/x/oauth2/authorize") {
      const p = url.searchParams;
      if (p.get("client_id") !== creds.x.clientId || p.get("code_challenge_method") !== "S256") {
        respond(res, { status: 400, body: { error: "invalid_request" } });
        return true;
      }
      const code = b64url(randomBytes(16));
      xCodes.set(code, {
        redirectUri: p.get("redirect_uri"),
        challenge: p.get("code_challenge"),
        sub: p.get("fake_sub") || "1000001",
        used: false,
      });
      const back = new URL(p.get("redirect_uri"));
      back.searchParams.set("code", code);
      back.searchParams.set("state", p.get("state") ?? "");
      res.writeHead(302, { location: back.toString() });
      res.end();
      return true;
    }
    if (req.method === "POST" && path === "/x/2/oauth2/token") {
      const form = new URLSearchParams(await readBody(req));
      const basic = `Basic ${Buffer.from(`${creds.x.clientId}:${creds.x.clientSecret}`).toString("base64")}`;
      if (req.headers.authorization !== basic) {
        respond(res, { status: 401, body: { error: "unauthorized_client" } });
        return true;
      }
      const entry = xCodes.get(form.get("code") ?? "");
      const { createHash } = await import("node:crypto");
      const verifier = form.get("code_verifier") ?? "";
      if (
        !entry ||
        entry.used ||
        form.get("redirect_uri") !== entry.redirectUri ||
        b64url(createHash("sha256").update(verifier).digest()) !== entry.challenge
      ) {
        respond(res, { status: 400, body: { error: "invalid_request" } });
        return true;
      }
      entry.used = true;
      const token = b64url(randomBytes(24));
      xTokens.set(token, entry.sub);
      respond(res, { status: 200, body: { token_type: "bearer", access_token: token, expires_in: 7200 } });
      return true;
    }
    if (req.method === "GET" && path === "/x/2/users/me") {
      const sub = xTokens.get((req.headers.authorization ?? "").replace(/^Bearer\s+/i, ""));
      respond(
        res,
        sub ? { status: 200, body: { data: { id: sub, username: `x_${sub}` } } } : { status: 401, body: {} },
      );
      return true;
    }
    const dm = path.match(/^\/x\/2\/dm_conversations\/with\/([^/]+)\/messages$/);
    if (req.method === "POST" && dm) {
      const raw = await readBody(req);
      if (req.headers.authorization !== `Bearer ${creds.x.botToken}`) {
        respond(res, { status: 401, body: { title: "Unauthorized" } });
        return true;
      }
      const key = `x:${dm[1]}`;
      const a = answer(key, { status: 201, body: { data: { dm_conversation_id: "1-2", dm_event_id: "3" } } });
      record(key, req, raw, a.status);
      respond(res, a);
      return true;
    }

    const hook = path.match(/^\/hooks\/([\w-]+)$/);
    if (hook) {
      const raw = await readBody(req);
      const key = `hook:${hook[1]}`;
      const a = answer(key, { status: 200, body: "ok — this body must never be read" });
      record(key, req, raw, a.status);
      respond(res, a);
      return true;
    }
    return false;
  };
}
