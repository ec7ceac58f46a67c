// Helpers for send-path tests: funded users, sends, totals straight from the Accounts.
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { api, type SignedIn, signUp } from "./helpers";

export type User = SignedIn & { handle: string };

export async function funded(amount: string, prefix = "u"): Promise<User> {
  const u = await signUp(prefix);
  if (amount !== "0") {
    const r = await api("POST", "/v1/payments/topup", { token: u.accessToken, body: { amount } });
    expect(r.status).toBe(200);
  }
  return u;
}

export function send(from: User, to: User | string, body = "hello", extra: Record<string, unknown> = {}, key?: string) {
  return api("POST", "/v1/messages", {
    token: from.accessToken,
    body: { to: typeof to === "string" ? to : to.handle, body, ...extra },
    headers: key ? { "idempotency-key": key } : {},
  });
}

export async function me(u: User): Promise<{ balance: string; held: string }> {
  const r = await api("GET", "/v1/me", { token: u.accessToken });
  expect(r.status).toBe(200);
  return r.body;
}

export async function totals(u: User) {
  return env.ACCOUNT.getByName(u.user.id).totals();
}

export async function setPricing(u: User, pricing: Record<string, unknown>) {
  const r = await api("PUT", "/v1/me/pricing", {
    token: u.accessToken,
    body: {
      defaultPrice: "1000000",
      firstContactPrice: "1000000",
      returnDiscountBps: 0,
      settlement: "instant",
      ...pricing,
    },
  });
  expect(r.status).toBe(200);
  return r.body.pricing;
}

/** Settles run in waitUntil; wait until no hold is left open on these Accounts. */
export async function settled(...users: User[]) {
  for (let i = 0; i < 100; i++) {
    const t = await Promise.all(users.map(totals));
    if (t.every((x) => x.held === "0" || x.held === undefined)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
