// Sign-In with Ethereum (EIP-4361). The server writes the whole message and
// remembers its hash with the nonce, so verify accepts exactly what was issued:
// single use, expiring, bound to this domain, URI and chain.
import { and, eq, gt, isNull } from "drizzle-orm";
import { type Address, createPublicClient, getAddress, type Hex, http, recoverMessageAddress } from "viem";
import { createSiweMessage, parseSiweMessage } from "viem/siwe";
import { config } from "../config";
import { db } from "../db/client";
import { authChallenges } from "../db/schema";
import { sha256Hex } from "./crypto";

/** 128 bits from the platform CSPRNG, as hex (EIP-4361 nonces are alphanumeric). viem's generateSiweNonce uses Math.random. */
export function siweNonce(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export const SIWE_TTL_MS = 10 * 60 * 1000;

export interface SiweContext {
  /** Origin the app is served from, e.g. https://paidinbox.app */
  origin: string;
  chainId: number;
}

export async function createChallenge(env: Env, ctx: SiweContext, address: Address): Promise<string> {
  const issuedAt = new Date();
  const expirationTime = new Date(issuedAt.getTime() + SIWE_TTL_MS);
  const nonce = siweNonce();
  const message = createSiweMessage({
    domain: new URL(ctx.origin).host,
    uri: ctx.origin,
    address: getAddress(address),
    chainId: ctx.chainId,
    nonce,
    version: "1",
    statement: "Sign in to Paid Inbox.",
    issuedAt,
    expirationTime,
  });
  await db(env)
    .insert(authChallenges)
    .values({
      id: nonce,
      kind: "siwe",
      subject: getAddress(address),
      payloadHash: await sha256Hex(message),
      expiresAt: expirationTime.getTime(),
    });
  return message;
}

export type SiweFailure = "malformed" | "not_issued_or_used" | "wrong_context" | "bad_signature";
export type SiweOutcome = { ok: true; address: Address } | { ok: false; reason: SiweFailure };

export async function verifyChallenge(
  env: Env,
  ctx: SiweContext,
  message: string,
  signature: Hex,
): Promise<SiweOutcome> {
  const fields = parseSiweMessage(message);
  if (!fields.nonce || !fields.address || !fields.domain) return { ok: false, reason: "malformed" };

  if (fields.domain !== new URL(ctx.origin).host || fields.uri !== ctx.origin || fields.chainId !== ctx.chainId) {
    return { ok: false, reason: "wrong_context" };
  }
  const address = getAddress(fields.address);
  const issued = and(
    eq(authChallenges.id, fields.nonce),
    eq(authChallenges.kind, "siwe"),
    eq(authChallenges.payloadHash, await sha256Hex(message)),
    eq(authChallenges.subject, address),
    gt(authChallenges.expiresAt, Date.now()),
    isNull(authChallenges.usedAt),
  );
  // Cheap refusal first (no signature work, no RPC call for smart accounts) for messages we never issued.
  const open = await db(env).select({ id: authChallenges.id }).from(authChallenges).where(issued).limit(1);
  if (!open.length) return { ok: false, reason: "not_issued_or_used" };
  // The nonce is claimed only by the exact message issued for it, for its address,
  // signed by that address: a junk verify with someone else's nonce burns nothing.
  if (!(await signatureMatches(env, address, message, signature))) return { ok: false, reason: "bad_signature" };
  // One conditional UPDATE: single use even under races, and only with the matching hash and address.
  const [claimed] = await db(env)
    .update(authChallenges)
    .set({ usedAt: Date.now() })
    .where(issued)
    .returning({ id: authChallenges.id });
  // Unknown, used, expired or altered: one answer (the message must be exactly the one issued).
  return claimed ? { ok: true, address } : { ok: false, reason: "not_issued_or_used" };
}

/**
 * EOA signatures are checked locally (no network). With CHAIN_RPC_URL set, a
 * signature that does not recover to the address is also tried as an
 * ERC-1271 / ERC-6492 smart-account signature through the RPC.
 */
async function signatureMatches(env: Env, address: Address, message: string, signature: Hex): Promise<boolean> {
  try {
    const recovered = await recoverMessageAddress({ message, signature });
    if (recovered === getAddress(address)) return true;
  } catch {
    // Not a 65-byte ECDSA signature: may still be a smart-account one.
  }
  const rpc = config(env).chainRpcUrl;
  if (!rpc) return false;
  try {
    const client = createPublicClient({ transport: http(rpc) });
    return await client.verifyMessage({ address, message, signature });
  } catch {
    return false;
  }
}
