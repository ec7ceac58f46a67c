// The recipient's price rule applied to one sender (API.md "Price rule").
import { discounted, fee } from "./money";

export type Settlement = "instant" | "on_reply";

export interface PricingPolicy {
  defaultPrice: bigint;
  firstContactPrice: bigint;
  returnDiscountBps: number;
  settlement: Settlement;
  replyWindowHours: number;
}

export const DEFAULT_POLICY: PricingPolicy = {
  defaultPrice: 1_000_000n,
  firstContactPrice: 1_000_000n,
  returnDiscountBps: 0,
  settlement: "instant",
  replyWindowHours: 72,
};

/** What the recipient knows about one sender. */
export interface SenderRelation {
  /** Allowlist discount in bps, or null when the sender is not on the allowlist. */
  allowlistBps: number | null;
  /** The sender has sent to this recipient before. */
  hasSentBefore: boolean;
  /** The recipient has sent to this sender before. */
  recipientHasSent: boolean;
}

export type QuoteReason = "first_contact" | "default" | "return_discount" | "allowlist";

/** The first reply to a message that pays on reply costs nothing (durable-objects/account/escrow.ts). */
export const FREE_REPLY: Charge = { price: 0n, fee: 0n, total: 0n };

/** What a send costs the sender: the price (to the recipient) plus the fee. */
export interface Charge {
  price: bigint;
  fee: bigint;
  total: bigint;
}

export interface Quote extends Charge {
  reason: QuoteReason;
}

export function priceFor(policy: PricingPolicy, rel: SenderRelation): { price: bigint; reason: QuoteReason } {
  if (rel.allowlistBps !== null)
    return { price: discounted(policy.defaultPrice, rel.allowlistBps), reason: "allowlist" };
  if (!rel.hasSentBefore) return { price: policy.firstContactPrice, reason: "first_contact" };
  if (rel.recipientHasSent) {
    return { price: discounted(policy.defaultPrice, policy.returnDiscountBps), reason: "return_discount" };
  }
  return { price: policy.defaultPrice, reason: "default" };
}

export function quote(policy: PricingPolicy, rel: SenderRelation, feeBps: bigint): Quote {
  const { price, reason } = priceFor(policy, rel);
  const f = fee(price, feeBps);
  return { price, fee: f, total: price + f, reason };
}

export interface PricingJson {
  defaultPrice: string;
  firstContactPrice: string;
  returnDiscountBps: number;
  settlement: Settlement;
  replyWindowHours: number;
}

export function pricingToJson(p: PricingPolicy): PricingJson {
  return {
    defaultPrice: p.defaultPrice.toString(),
    firstContactPrice: p.firstContactPrice.toString(),
    returnDiscountBps: p.returnDiscountBps,
    settlement: p.settlement,
    replyWindowHours: p.replyWindowHours,
  };
}
