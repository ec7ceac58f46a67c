// PII at rest: phone numbers and emails are stored only as AES-GCM ciphertext
// (with the version of the key that sealed them) plus an HMAC "blind index" for
// exact lookup. Both keys are derived with HKDF from the PII_KEY secret, so one
// secret is rotated as a unit: the new key becomes PII_KEY with PII_KEY_VERSION
// bumped, the old one moves to PII_KEY_PREVIOUS until every row is re-sealed.
// Nothing here logs, and errors never carry a target.
import { base64url } from "../auth/crypto";
import { hasControl } from "../domain/text";
import { ApiError } from "../http/errors";
import { identityConfig } from "./config";

export type Channel = "email" | "phone";

const enc = new TextEncoder();
const dec = new TextDecoder();

// ── Normalization and validation ───────────────────────────────────────────

const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@"<>()[\],;:\\]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** E.164 (`+` then 7–15 digits, no leading 0); spaces, dashes, dots and parentheses are dropped first. */
export function normalizePhone(input: string): string | null {
  const p = input.trim().replace(/[\s\-.()]/g, "");
  return E164.test(p) ? p : null;
}

export function normalizeEmail(input: string): string | null {
  const e = input.trim().toLowerCase();
  // No control characters anywhere (a NUL would pass the pattern below, which only excludes whitespace).
  if (hasControl(e)) return null;
  return e.length <= 254 && EMAIL.test(e) ? e : null;
}

export function normalizeTarget(channel: Channel, input: string): string | null {
  return channel === "phone" ? normalizePhone(input) : normalizeEmail(input);
}

// ── Keys ───────────────────────────────────────────────────────────────────

interface PiiKeys {
  version: number;
  aes: CryptoKey;
  index: CryptoKey;
}

const keyCache = new Map<string, Promise<PiiKeys>>();

export function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function deriveKeys(secret: string, version: number): Promise<PiiKeys> {
  const cacheKey = `${version}:${secret}`;
  let hit = keyCache.get(cacheKey);
  if (!hit) {
    hit = (async () => {
      let raw: Uint8Array;
      try {
        raw = fromBase64(secret);
      } catch {
        raw = new Uint8Array();
      }
      if (raw.length !== 32) throw new ApiError(503, "misconfigured", "PII_KEY must be 32 bytes, base64-encoded.");
      const base = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
      const params = (info: string) => ({
        name: "HKDF",
        hash: "SHA-256",
        salt: enc.encode("paid-inbox/pii"),
        info: enc.encode(info),
      });
      const [aes, index] = await Promise.all([
        crypto.subtle.deriveKey(params("aes-256-gcm"), base, { name: "AES-GCM", length: 256 }, false, [
          "encrypt",
          "decrypt",
        ]),
        crypto.subtle.deriveKey(params("blind-index"), base, { name: "HMAC", hash: "SHA-256", length: 256 }, false, [
          "sign",
        ]),
      ]);
      return { version, aes, index };
    })();
    keyCache.set(cacheKey, hit);
  }
  return hit;
}

/** Current key first, then the previous one while a rotation is in progress. */
async function allKeys(env: Env): Promise<PiiKeys[]> {
  const version = identityConfig(env).piiKeyVersion;
  const keys = [deriveKeys(env.PII_KEY, version)];
  if (env.PII_KEY_PREVIOUS && version > 1) keys.push(deriveKeys(env.PII_KEY_PREVIOUS, version - 1));
  return Promise.all(keys);
}

async function keyFor(env: Env, version: number): Promise<PiiKeys> {
  const key = (await allKeys(env)).find((k) => k.version === version);
  if (!key) throw new Error(`no PII key for version ${version}`);
  return key;
}

// ── Sealing and blind indexes ──────────────────────────────────────────────

export interface Sealed {
  ciphertext: string;
  iv: string;
  keyVersion: number;
}

/** AES-GCM with a random 96-bit IV; `context` is bound as associated data (a row cannot be moved to another). */
export async function seal(env: Env, plaintext: string, context: string): Promise<Sealed> {
  const [key] = await allKeys(env);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: enc.encode(context) },
    key.aes,
    enc.encode(plaintext),
  );
  return { ciphertext: base64url(new Uint8Array(ct)), iv: base64url(iv), keyVersion: key.version };
}

export async function open(env: Env, sealed: Sealed, context: string): Promise<string> {
  const key = await keyFor(env, sealed.keyVersion);
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(sealed.iv), additionalData: enc.encode(context) },
    key.aes,
    fromBase64(sealed.ciphertext),
  );
  return dec.decode(pt);
}

async function hmacHex(key: CryptoKey, data: string): Promise<string> {
  const sig = await crypto.subtle.sign("HMAC", key, enc.encode(data));
  return [...new Uint8Array(sig)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The blind index of a normalized target under the current key. */
export async function blindIndex(env: Env, channel: Channel, normalized: string): Promise<string> {
  const [key] = await allKeys(env);
  return hmacHex(key.index, `${channel}:${normalized}`);
}

/** Blind indexes under every live key (current first), for lookups during a rotation. */
export async function blindIndexes(env: Env, channel: Channel, normalized: string): Promise<string[]> {
  const keys = await allKeys(env);
  return Promise.all(keys.map((k) => hmacHex(k.index, `${channel}:${normalized}`)));
}

/** Associated data for a verified contact row and for a pending verification. */
export const contactContext = (userId: string, channel: Channel) => `contact:${userId}:${channel}`;
export const verificationContext = (verificationId: string, channel: Channel) =>
  `verification:${verificationId}:${channel}`;
