// Helpers for the identity tests: a software WebAuthn authenticator (P-256,
// "none" attestation, DER ECDSA assertions), the dev outbox, the fake provider,
// and requests against the app with overridden [vars].

import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { isoBase64URL, isoCBOR } from "@simplewebauthn/server/helpers";
import app from "../worker/app";
import { type ApiResult, api, ORIGIN } from "./helpers";
import { noteSensitive } from "./log-capture";

const enc = new TextEncoder();
const b64url = (bytes: Uint8Array) => isoBase64URL.fromBuffer(bytes as Uint8Array<ArrayBuffer>);

/** Like `api`, but through the app with some [vars]/secrets replaced (same bindings otherwise). */
export async function apiWith<T = any>(
  overrides: Record<string, string>,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  noteSensitive(opts.body);
  noteSensitive(opts.token);
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${ORIGIN}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    }),
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, body: body as T, headers: res.headers };
}

let seq = 0;
/** A unique, valid E.164 number per call (555-01xx style, never a real subscriber). */
export function uniquePhone(): string {
  const n = (Date.now() % 1_000_000) * 100 + (seq++ % 100);
  return `+1555${String(n).padStart(8, "0").slice(-8)}`;
}
export function uniqueEmail(prefix = "person"): string {
  return `${prefix}.${Date.now().toString(36)}${(seq++).toString(36)}@example.test`;
}
let ipSeq = 1;
export const uniqueIp = () => `198.51.${Math.floor(ipSeq / 250) % 250}.${(ipSeq++ % 250) + 1}`;

/** The newest code the dev provider "sent" to `to`. */
export async function outboxCode(to: string): Promise<string> {
  const res = await api("GET", `/v1/dev/outbox?to=${encodeURIComponent(to)}`);
  if (res.status !== 200) throw new Error(`outbox ${res.status}`);
  const text: string | undefined = res.body.items[0]?.text;
  const code = text?.match(/\b(\d{6})\b/)?.[1];
  if (!code) throw new Error("no code in the dev outbox");
  return code;
}

/** request + read the code from the dev outbox + confirm. */
export async function verifyTarget(token: string, channel: "email" | "phone", target: string, ip = uniqueIp()) {
  const req = await api("POST", "/v1/verify/request", {
    token,
    body: { channel, target },
    headers: { "cf-connecting-ip": ip },
  });
  if (req.status !== 202) throw new Error(`request ${req.status} ${JSON.stringify(req.body)}`);
  const code = await outboxCode(target);
  const res = await api("POST", "/v1/verify/confirm", {
    token,
    body: { verificationId: req.body.verificationId, code },
  });
  if (res.status !== 200) throw new Error(`confirm ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

/** Messages the fake Twilio/SendGrid received for `to`. */
export async function fakeMessages(to: string): Promise<{ channel: string; to: string; text: string }[]> {
  const res = await fetch(`${env.FAKE_PROVIDER_URL}/_fake/messages?to=${encodeURIComponent(to)}`);
  return ((await res.json()) as { items: { channel: string; to: string; text: string }[] }).items;
}

// ── Software authenticator ─────────────────────────────────────────────────

async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const u32 = (n: number) => new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

/** WebCrypto's ECDSA signature is r||s; WebAuthn wants ASN.1 DER. */
function derSignature(raw: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    let v: Uint8Array = b.slice(i);
    if (v[0] & 0x80) v = concat(new Uint8Array([0]), v);
    return concat(new Uint8Array([0x02, v.length]), v);
  };
  const body = concat(int(raw.slice(0, 32)), int(raw.slice(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

export interface CreationOptions {
  challenge: string;
  rp: { id: string; name: string };
  user: { id: string; name: string };
  excludeCredentials?: { id: string }[];
}
export interface RequestOptions {
  challenge: string;
  rpId: string;
}

/** A passkey authenticator in software: P-256 key, "none" attestation, user present + verified. */
export class SoftAuthenticator {
  counter = 0;
  userHandle: string | null = null;

  private constructor(
    readonly credentialId: Uint8Array,
    private readonly keys: CryptoKeyPair,
  ) {}

  static async create(): Promise<SoftAuthenticator> {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    return new SoftAuthenticator(crypto.getRandomValues(new Uint8Array(32)), keys);
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  async register(options: CreationOptions, origin = ORIGIN) {
    this.userHandle = options.user.id;
    const jwk = (await crypto.subtle.exportKey("jwk", this.keys.publicKey)) as JsonWebKey;
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, isoBase64URL.toBuffer(jwk.x!)],
        [-3, isoBase64URL.toBuffer(jwk.y!)],
      ]),
    );
    const authData = concat(
      await sha256(options.rp.id),
      new Uint8Array([0x45]), // UP | UV | AT
      u32(this.counter),
      new Uint8Array(16), // AAGUID
      new Uint8Array([this.credentialId.length >> 8, this.credentialId.length & 255]),
      this.credentialId,
      cose,
    );
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ["fmt", "none"],
        ["attStmt", new Map<string, string>()],
        ["authData", authData],
      ]),
    );
    const clientDataJSON = JSON.stringify({ type: "webauthn.create", challenge: options.challenge, origin });
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: {
        clientDataJSON: b64url(enc.encode(clientDataJSON)),
        attestationObject: b64url(attestationObject),
        transports: ["internal"],
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** Signs an assertion; the sign counter moves forward unless `counter` is given. */
  async assert(options: RequestOptions, opts: { origin?: string; counter?: number } = {}) {
    this.counter = opts.counter ?? this.counter + 1;
    const authData = concat(await sha256(options.rpId), new Uint8Array([0x05]), u32(this.counter));
    const clientDataJSON = enc.encode(
      JSON.stringify({ type: "webauthn.get", challenge: options.challenge, origin: opts.origin ?? ORIGIN }),
    );
    const signed = concat(authData, await sha256(clientDataJSON));
    const raw = new Uint8Array(
      await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        this.keys.privateKey,
        signed as Uint8Array<ArrayBuffer>,
      ),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(derSignature(raw)),
        ...(this.userHandle ? { userHandle: this.userHandle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }
}
