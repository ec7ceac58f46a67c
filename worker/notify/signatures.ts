// Provider webhook authentication: constant-time checks of shared secrets and
// HMAC-SHA256 signatures over the raw request body.
import { timingSafeEqual } from "../auth/crypto";

const enc = new TextEncoder();

export async function hmacSha256(key: string, data: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", enc.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(data)));
}

export const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
export const base64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/** Meta's X-Hub-Signature-256: `sha256=<hex HMAC of the body with the app secret>`. */
export async function validHubSignature(appSecret: string, body: string, header: string | undefined): Promise<boolean> {
  if (!header) return false;
  return timingSafeEqual(header.toLowerCase(), `sha256=${hex(await hmacSha256(appSecret, body))}`);
}

/** X's x-twitter-webhooks-signature: `sha256=<base64 HMAC of the body with the consumer secret>`. */
export async function validXSignature(
  consumerSecret: string,
  body: string,
  header: string | undefined,
): Promise<boolean> {
  if (!header) return false;
  return timingSafeEqual(header, `sha256=${base64(await hmacSha256(consumerSecret, body))}`);
}

/** X's CRC answer: `sha256=<base64 HMAC of crc_token with the consumer secret>`. */
export async function xCrcResponse(consumerSecret: string, crcToken: string): Promise<string> {
  return `sha256=${base64(await hmacSha256(consumerSecret, crcToken))}`;
}

export function sameSecret(expected: string, got: string | undefined): boolean {
  return got !== undefined && timingSafeEqual(expected, got);
}
