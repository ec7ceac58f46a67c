// A small fake of Google's and GitHub's OAuth endpoints, Twilio's Messages API
// and SendGrid's Mail Send API on a real node:http server on 127.0.0.1, so the
// Worker's outbound HTTP runs for real in tests. Started by global-setup.mjs.
//
// OAuth: /google/authorize and /github/login/oauth/authorize redirect straight
// back with a code (the test picks the identity with `fake_sub=`); the token
// endpoints check client credentials, redirect_uri and PKCE (S256) and refuse a
// code used twice (Google: 400 invalid_grant; GitHub: 200 {error}, as GitHub does).
// Messages sent to Twilio/SendGrid are readable at GET /_fake/messages?to=.
// POST /_fake/fail-next makes the next SMS/email request answer 500.
// Notification rails (Telegram, WhatsApp, X, webhook receivers): see rails-fakes.mjs.
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { railsFakes } from "./rails-fakes.mjs";

const b64url = (buf) => Buffer.from(buf).toString("base64url");

/** @param {{google: {clientId: string, clientSecret: string}, github: {clientId: string, clientSecret: string}, twilio: {accountSid: string, authToken: string}, sendgrid: {apiKey: string}}} creds */
export async function startFakeProviders(creds) {
  const codes = new Map(); // code -> {provider, redirectUri, challenge, sub, used}
  const tokens = new Map(); // access token -> {provider, sub}
  const messages = []; // {channel, to, text, at}
  let failNext = false;
  const rails = railsFakes(creds);

  async function readBody(req) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    return Buffer.concat(chunks).toString("utf8");
  }
  function send(res, status, body, headers = {}) {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(body === undefined ? "" : JSON.stringify(body));
  }

  function authorize(provider, url, res) {
    const p = url.searchParams;
    if (p.get("client_id") !== creds[provider].clientId) return send(res, 400, { error: "invalid_client" });
    if (p.get("response_type") !== "code" || p.get("code_challenge_method") !== "S256" || !p.get("code_challenge")) {
      return send(res, 400, { error: "invalid_request" });
    }
    const code = b64url(randomBytes(16));
    codes.set(code, {
      provider,
      redirectUri: p.get("redirect_uri"),
      challenge: p.get("code_challenge"),
      sub: p.get("fake_sub") || "fake-user-1",
      used: false,
    });
    const back = new URL(p.get("redirect_uri"));
    back.searchParams.set("code", code);
    back.searchParams.set("state", p.get("state") ?? "");
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  async function token(provider, req, res) {
    const form = new URLSearchParams(await readBody(req));
    const refuse = (error) => (provider === "github" ? send(res, 200, { error }) : send(res, 400, { error }));
    if (
      form.get("client_id") !== creds[provider].clientId ||
      form.get("client_secret") !== creds[provider].clientSecret
    ) {
      return send(res, 401, { error: "invalid_client" });
    }
    const entry = codes.get(form.get("code") ?? "");
    if (!entry || entry.provider !== provider) return refuse("bad_verification_code");
    if (entry.used) return refuse(provider === "github" ? "bad_verification_code" : "invalid_grant");
    entry.used = true;
    if (form.get("redirect_uri") !== entry.redirectUri) return refuse("redirect_uri_mismatch");
    const verifier = form.get("code_verifier") ?? "";
    if (b64url(createHash("sha256").update(verifier).digest()) !== entry.challenge) return refuse("invalid_grant");
    const accessToken = b64url(randomBytes(24));
    tokens.set(accessToken, { provider, sub: entry.sub });
    send(res, 200, { access_token: accessToken, token_type: "bearer", expires_in: 3600, scope: form.get("scope") });
  }

  function profile(provider, req, res) {
    const t = tokens.get((req.headers.authorization ?? "").replace(/^Bearer\s+/i, ""));
    if (!t || t.provider !== provider) return send(res, 401, { error: "invalid_token" });
    if (provider === "google") {
      return send(res, 200, { sub: t.sub, email: `${t.sub}@gmail.test`, email_verified: true, name: "Fake Google" });
    }
    const id = Number.parseInt(createHash("sha256").update(t.sub).digest("hex").slice(0, 12), 16);
    return send(res, 200, { id, login: `gh-${t.sub}`, name: "Fake GitHub", email: `${t.sub}@github.test` });
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const path = url.pathname;
      if (req.method === "GET" && path === "/google/authorize") return authorize("google", url, res);
      if (req.method === "GET" && path === "/github/login/oauth/authorize") return authorize("github", url, res);
      if (req.method === "POST" && path === "/google/token") return await token("google", req, res);
      if (req.method === "POST" && path === "/github/login/oauth/access_token") return await token("github", req, res);
      if (req.method === "GET" && path === "/google/userinfo") return profile("google", req, res);
      if (req.method === "GET" && path === "/github/user") return profile("github", req, res);

      const twilio = path.match(/^\/twilio\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/);
      if (req.method === "POST" && twilio) {
        const basic = `Basic ${Buffer.from(`${creds.twilio.accountSid}:${creds.twilio.authToken}`).toString("base64")}`;
        if (twilio[1] !== creds.twilio.accountSid || req.headers.authorization !== basic) {
          return send(res, 401, { code: 20003, message: "Authenticate" });
        }
        const form = new URLSearchParams(await readBody(req));
        if (failNext) {
          failNext = false;
          return send(res, 500, { message: "fake failure" });
        }
        if (!form.get("To") || !form.get("From") || !form.get("Body")) return send(res, 400, { code: 21604 });
        messages.push({ channel: "phone", to: form.get("To"), text: form.get("Body"), at: Date.now() });
        return send(res, 201, { sid: `SM${b64url(randomBytes(8))}`, status: "queued" });
      }
      if (req.method === "POST" && path === "/sendgrid/v3/mail/send") {
        if (req.headers.authorization !== `Bearer ${creds.sendgrid.apiKey}`) return send(res, 401, { errors: [] });
        const body = JSON.parse(await readBody(req));
        if (failNext) {
          failNext = false;
          return send(res, 500, { errors: [{ message: "fake failure" }] });
        }
        const to = body?.personalizations?.[0]?.to?.[0]?.email;
        const text = body?.content?.find((c) => c.type === "text/plain")?.value;
        if (!to || !text || !body?.from?.email) return send(res, 400, { errors: [{ message: "bad request" }] });
        messages.push({ channel: "email", to, text, at: Date.now() });
        return send(res, 202, undefined);
      }

      if (await rails(req, res, url, readBody)) return;

      if (req.method === "GET" && path === "/_fake/messages") {
        const to = url.searchParams.get("to");
        return send(res, 200, { items: messages.filter((m) => !to || m.to === to) });
      }
      if (req.method === "POST" && path === "/_fake/fail-next") {
        failNext = true;
        return send(res, 204, undefined);
      }
      send(res, 404, { error: "not_found" });
    } catch (err) {
      send(res, 500, { error: String(err) });
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}
