// Linked wallets: a user's vault address is the wallet they signed in (or linked) with SIWE.
import { type Address, getAddress } from "viem";

/** user id → linked wallet (null when none), in one D1 query. */
export async function walletsOf(env: Env, ids: string[]): Promise<Map<string, Address | null>> {
  const out = new Map<string, Address | null>(ids.map((id) => [id, null]));
  if (!ids.length) return out;
  const { results } = await env.DB.prepare(
    `SELECT id, wallet_address FROM users WHERE id IN (${ids.map(() => "?").join(", ")})`,
  )
    .bind(...ids)
    .all<{ id: string; wallet_address: string | null }>();
  for (const r of results) out.set(r.id, r.wallet_address ? getAddress(r.wallet_address) : null);
  return out;
}

/** wallet → user id, for the addresses in one batch of vault events. */
export async function usersByWallet(env: Env, addresses: Address[]): Promise<Map<Address, string>> {
  const unique = [...new Set(addresses.map((a) => getAddress(a)))];
  const out = new Map<Address, string>();
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < unique.length; i += 90) {
    const chunk = unique.slice(i, i + 90);
    const { results } = await env.DB.prepare(
      `SELECT id, wallet_address FROM users WHERE wallet_address IN (${chunk.map(() => "?").join(", ")})`,
    )
      .bind(...chunk)
      .all<{ id: string; wallet_address: string }>();
    for (const r of results) out.set(getAddress(r.wallet_address), r.id);
  }
  return out;
}
