// Calldata for the relayer's settle transactions: `settleBatchPacked(bytes)` when
// every payment fits the packed layout (see IPayInboxVault.settleBatchPacked), else
// the ABI-encoded `settleBatch(SignedPayment[])`. Both emit the same events.
import {
  type Address,
  concatHex,
  encodeFunctionData,
  type Hex,
  numberToHex,
  parseSignature,
  recoverTypedDataAddress,
  serializeCompactSignature,
  signatureToCompactSignature,
  size,
} from "viem";
import { forViem, paymentValues, typedPayment } from "../domain/payment-intent";
import { vaultAbi } from "./abis";
import type { SettleJob } from "./settle-job";

/** Payments whose fields fit the packed layout's narrow widths. */
function fitsPacked(job: SettleJob): boolean {
  const p = job.payment;
  return (
    BigInt(p.amount) < 1n << 128n &&
    BigInt(p.nonce) < 1n << 64n &&
    BigInt(p.deadline) < 1n << 40n &&
    size(job.signature) < 1 << 16
  );
}

/**
 * The EIP-2098 compact form of `job`'s signature when it is a 65-byte ECDSA
 * signature by the payer's own key (an EOA), else null: the signature then goes
 * to the payer's ERC-1271 check as it is.
 */
export async function compactSignatureOf(job: SettleJob, chainId: number, vault: Address): Promise<Hex | null> {
  if (size(job.signature) !== 65) return null;
  try {
    const signer = await recoverTypedDataAddress({
      ...forViem(typedPayment({ chainId, verifyingContract: vault }, job.payment)),
      signature: job.signature,
    });
    if (signer.toLowerCase() !== job.payment.payer.toLowerCase()) return null;
    return serializeCompactSignature(signatureToCompactSignature(parseSignature(job.signature)));
  } catch {
    return null; // not a valid ECDSA signature: let the wallet (ERC-1271) decide
  }
}

/** One packed entry (200 bytes with a compact signature, 136 + n with an ERC-1271 one). */
export function packedEntry(job: SettleJob, compact: Hex | null): Hex {
  const p = job.payment;
  const signature = compact ?? job.signature;
  return concatHex([
    p.payer,
    p.recipient,
    p.messageId,
    p.contentHash,
    numberToHex(BigInt(p.amount), { size: 16 }),
    numberToHex(BigInt(p.nonce), { size: 8 }),
    numberToHex(BigInt(p.deadline), { size: 5 }),
    numberToHex(job.channel, { size: 1 }),
    numberToHex(compact ? 0 : size(signature), { size: 2 }),
    signature,
  ]);
}

/** Per entry: worst case of a cold payer and a recipient's first credit (~45k), with headroom. */
const GAS_PER_EOA_ENTRY = 60_000n;
/** Per ERC-1271 entry: the vault caps the wallet's check at 500k (BATCH_ERC1271_GAS). */
const GAS_PER_WALLET_ENTRY = 560_000n;
const GAS_BASE = 100_000n;

/**
 * Calldata settling `jobs` in this order (the vault checks each payer's nonce in
 * sequence), and a gas limit enough for the worst case of every entry, so the
 * limit never depends on state that earlier in-flight batches will change. Unused
 * gas is not paid for.
 */
export async function settleTransaction(
  jobs: SettleJob[],
  chainId: number,
  vault: Address,
): Promise<{ data: Hex; gas: bigint }> {
  const compact = await Promise.all(jobs.map((job) => compactSignatureOf(job, chainId, vault)));
  const gas = compact.reduce((g, c) => g + (c ? GAS_PER_EOA_ENTRY : GAS_PER_WALLET_ENTRY), GAS_BASE);
  if (jobs.every(fitsPacked)) {
    const entries = jobs.map((job, i) => packedEntry(job, compact[i]));
    const data = encodeFunctionData({
      abi: vaultAbi,
      functionName: "settleBatchPacked",
      args: [concatHex(entries)],
    });
    return { data, gas };
  }
  const data = encodeFunctionData({
    abi: vaultAbi,
    functionName: "settleBatch",
    args: [
      jobs.map((job) => ({ payment: paymentValues(job.payment), channel: job.channel, signature: job.signature })),
    ],
  });
  return { data, gas };
}
