// Money in and out of the simulated ledger (top-up, withdrawal), each under
// an optional Idempotency-Key (idempotency.ts). Chain mode moves money by vault
// events instead (chain.ts).
import { remember, replay } from "./idempotency";
import type { AccountCore, IdempotentResult } from "./types";

export async function topup(
  account: AccountCore,
  amount: string,
  key: string | null,
  requestHash: string,
): Promise<IdempotentResult<object>> {
  const prior = replay(account.sql, key, requestHash);
  if (prior) return prior;
  const a = BigInt(amount);
  return account.commit((tx) => {
    tx.s.topups += a;
    const entryId = tx.entry("topup", a, { balance: a }, key);
    return remember(account.sql, key, requestHash, 200, { balance: `${tx.s.balance}`, entryId: String(entryId) });
  });
}

export async function withdraw(
  account: AccountCore,
  amount: string,
  to: string | null,
  key: string | null,
  requestHash: string,
) {
  const prior = replay(account.sql, key, requestHash);
  if (prior) return prior;
  if (account.s.frozen !== null) return { ok: false, code: "account_frozen" } as const;
  const a = BigInt(amount);
  if (a > account.s.balance) {
    return { ok: false, code: "insufficient_balance", required: amount, balance: `${account.s.balance}` } as const;
  }
  const withdrawalId = `wd_${crypto.randomUUID()}`;
  return account.commit((tx) => {
    tx.s.withdrawals += a;
    tx.entry("withdraw", a, { balance: -a }, to ? `${withdrawalId}:${to}` : withdrawalId);
    // The simulated ledger pays nothing out; the status says so.
    return remember(account.sql, key, requestHash, 200, {
      balance: `${tx.s.balance}`,
      withdrawalId,
      status: "simulated",
    });
  });
}
