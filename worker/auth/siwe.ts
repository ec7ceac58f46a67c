// Sign-In with Ethereum (EIP-4361). The server writes the whole message and
// remembers its hash with the nonce, so verify accepts exactly what was issued:
// single use, expiring, bound to this domain, URI and chain.
import { and, eq, isNull } from "drizzle-orm";
import { type Address, createPublicClient, getAddress, type Hex, http, recoverMessageAddress } from "viem";
import { createSiweMessage, generateSiweNonce, parseSiweMessage } from "viem/siwe";
import { config } from "../config";
import { db } from "../db/client";
import { authChallenges } from "../db/schema";
import { sha256Hex } from "./crypto";

export const SIWE_TTL_MS = 10 * 60 * 1000;

export interface SiweContext {
  /** Origin the app is served from, e.g. https://paidinbox.app */
  origin: string;
  chainId: number;
}

export async function createChallenge(env: Env, ctx: SiweContext, address: Address): Promise<string> {
  const issuedAt = new Date();
  const expirationTime = new Date(issuedAt.getTime() + SIWE_TTL_MS);
  const nonce = generateSiweNonce();
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

export type SiweFailure =
  | "malformed"
  | "unknown_or_used_nonce"
  | "altered"
  | "expired"
  | "wrong_context"
  | "bad_signature";
export type SiweOutcome = { ok: true; address: Address } | { ok: false; reason: SiweFailure };

export async function verifyChallenge(
  env: Env,
  ctx: SiweContext,
  message: string,
  signature: Hex,
): Promise<SiweOutcome> {
  const fields = parseSiweMessage(message);
  if (!fields.nonce || !fields.address || !fields.domain) return { ok: false, reason: "malformed" };

  // Claim the nonce before anything else: one verify per challenge, even under races.
  const now = Date.now();
  const [challenge] = await db(env)
    .update(authChallenges)
    .set({ usedAt: now })
    .where(and(eq(authChallenges.id, fields.nonce), eq(authChallenges.kind, "siwe"), isNull(authChallenges.usedAt)))
    .returning();
  if (!challenge) return { ok: false, reason: "unknown_or_used_nonce" };
  if (challenge.payloadHash !== (await sha256Hex(message))) return { ok: false, reason: "altered" };
  if (challenge.expiresAt <= now) return { ok: false, reason: "expired" };
  if (
    fields.domain !== new URL(ctx.origin).host ||
    fields.uri !== ctx.origin ||
    fields.chainId !== ctx.chainId ||
    getAddress(fields.address) !== challenge.subject
  ) {
    return { ok: false, reason: "wrong_context" };
  }
  const valid = await signatureMatches(env, fields.address, message, signature);
  return valid ? { ok: true, address: getAddress(fields.address) } : { ok: false, reason: "bad_signature" };
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
