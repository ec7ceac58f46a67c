// Account Durable Object: one per user, the serialization point for that user's
// money and inbox. (The send path fills this in; see docs/architecture.md.)
import { DurableObject } from "cloudflare:workers";

export const DEFAULT_PRICING = {
  defaultPrice: "1000000",
  firstContactPrice: "1000000",
  returnDiscountBps: 0,
  settlement: "instant" as const,
  replyWindowHours: 72,
};

export interface AccountSummary {
  balance: string;
  held: string;
  pricing: typeof DEFAULT_PRICING;
}

export class Account extends DurableObject<Env> {
  async summary(): Promise<AccountSummary> {
    return { balance: "0", held: "0", pricing: DEFAULT_PRICING };
  }
}
