// Payment intents (chain mode): the EIP-712 `Payment` a payer signs so the relayer
// can settle a message through the vault (contracts/src/interfaces/IPayInboxVault.sol).
// Pure rules shared by the Worker (issuing intents) and the sender's Account
// (checking the signed payment before it holds any money).
import { type Address, getAddress, type Hex, isAddress, keccak256, toBytes } from "viem";

export const PAYMENT_TYPES = {
  Payment: [
    { name: "payer", type: "address" },
    { name: "recipient", type: "address" },
    { name: "messageId", type: "bytes32" },
    { name: "contentHash", type: "bytes32" },
    { name: "amount", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/** How long a signed intent stays valid on chain; the relayer has this long to settle it. */
export const INTENT_TTL_SECONDS = 3_600;
/** A signed payment closer than this to its deadline is refused: the relayer needs time to settle it. */
export const MIN_DEADLINE_LEFT_SECONDS = 120;
/** Deadlines further out than this are refused (a signed payment should not linger for days). */
export const MAX_DEADLINE_SECONDS = 86_400;

/** The `Payment` fields on the wire: uint256 as decimal strings. */
export interface PaymentMessage {
  payer: Address;
  recipient: Address;
  messageId: Hex;
  contentHash: Hex;
  amount: string;
  nonce: string;
  deadline: string;
}

export interface ChainDomain {
  chainId: number;
  verifyingContract: Address;
}

export interface TypedPayment {
  domain: { name: "PayInboxVault"; version: "1"; chainId: number; verifyingContract: Address };
  types: typeof PAYMENT_TYPES;
  primaryType: "Payment";
  message: PaymentMessage;
}

/** The commitment to a message body the payer signs (opaque to the vault). */
export function contentHashOf(body: string): Hex {
  return keccak256(toBytes(body));
}

export function typedPayment(domain: ChainDomain, message: PaymentMessage): TypedPayment {
  return {
    domain: { name: "PayInboxVault", version: "1", ...domain },
    types: PAYMENT_TYPES,
    primaryType: "Payment",
    message,
  };
}

/** The `Payment` struct as viem and the vault's ABI take it (uint256 as bigint). */
export function paymentValues(m: PaymentMessage) {
  return {
    payer: m.payer,
    recipient: m.recipient,
    messageId: m.messageId,
    contentHash: m.contentHash,
    amount: BigInt(m.amount),
    nonce: BigInt(m.nonce),
    deadline: BigInt(m.deadline),
  };
}

/** viem's view of the typed data (bigint uint256s) for signing or recovering. */
export function forViem(t: TypedPayment) {
  return {
    domain: t.domain,
    types: t.types,
    primaryType: t.primaryType,
    message: paymentValues(t.message),
  } as const;
}

export type IntentProblem =
  | { code: "intent_mismatch"; field: keyof PaymentMessage }
  | { code: "intent_expired" }
  | { code: "intent_stale"; nonce: string };

export interface IntentExpectation {
  payer: Address;
  recipient: Address;
  messageId: Hex;
  body: string;
  amount: bigint;
  /** The nonce the next accepted payment of this payer must carry. */
  nonce: bigint;
  nowSeconds: number;
}

/**
 * Checks a signed payment's fields against what the server would accept now
 * (the signature is checked separately). A stale nonce is its own outcome: the
 * client re-signs with the fresh intent the error carries.
 */
export function checkPayment(m: PaymentMessage, e: IntentExpectation): IntentProblem | null {
  const same = (a: string, b: string) => isAddress(a, { strict: false }) && getAddress(a) === getAddress(b);
  if (!same(m.payer, e.payer)) return { code: "intent_mismatch", field: "payer" };
  if (!same(m.recipient, e.recipient)) return { code: "intent_mismatch", field: "recipient" };
  if (m.messageId.toLowerCase() !== e.messageId.toLowerCase()) return { code: "intent_mismatch", field: "messageId" };
  if (m.contentHash.toLowerCase() !== contentHashOf(e.body)) return { code: "intent_mismatch", field: "contentHash" };
  if (BigInt(m.amount) !== e.amount) return { code: "intent_mismatch", field: "amount" };
  const deadline = BigInt(m.deadline);
  if (deadline < BigInt(e.nowSeconds + MIN_DEADLINE_LEFT_SECONDS)) return { code: "intent_expired" };
  if (deadline > BigInt(e.nowSeconds + MAX_DEADLINE_SECONDS)) return { code: "intent_mismatch", field: "deadline" };
  if (BigInt(m.nonce) !== e.nonce) return { code: "intent_stale", nonce: `${e.nonce}` };
  return null;
}

/**
 * The nonce the payer's next payment must carry. The vault takes nonces in
 * order, so a new payment goes right after the run of accepted, unsettled
 * payments that continues from the chain's nonce. A pending payment beyond a
 * gap (one before it failed) can never settle on its own, so it does not push
 * the next nonce up: later payments are never stuck behind an abandoned or
 * failed one. Intents that were issued but never sent reserve nothing.
 */
export function nextNonce(chainNonce: bigint, pending: bigint[]): bigint {
  const taken = new Set(pending.map(String));
  let n = chainNonce;
  while (taken.has(`${n}`)) n++;
  return n;
}
