// Funds that reached a wallet before anybody linked it are credited by one
// `unclaimed:` claim (worker/chain/unclaimed.ts). An ops reindex from before
// those events hands them to the Account again, now under their own
// `txHash:logIndex` refs: the Account must know they are already in its claim
// (durable-objects/account/chain-claims.ts) and credit nothing twice. On a real
// anvil of its own, through the HTTP API and the real cron handler.
import { env, runInDurableObject } from "cloudflare:test";
import { type Address, keccak256, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { signAccessToken } from "../worker/auth/sessions";
import {
  call,
  chainEnv,
  chainTools,
  confirmAndIndex as confirmAndIndexWith,
  expectConsistent,
  money,
  runCron,
} from "./chain-helpers";
import { signUp } from "./helpers";

const info = inject("chains").claim;
const e = chainEnv(info);
const chain = chainTools(info);
const USDC = 1_000_000n;
const admin = { authorization: `Bearer ${e.ADMIN_TOKEN}` };

const confirmAndIndex = () => confirmAndIndexWith(e, chain);
const ledgerOf = async (token: string) =>
  (await call(e, "GET", "/v1/payments/ledger", { token })).body.entries as {
    kind: string;
    amount: string;
    ref: string;
  }[];

/** A user with no wallet yet (as after passkey or social sign-in). */
async function walletless(name: string) {
  const id = `u_${name}${Date.now().toString(36)}`;
  await env.DB.prepare("INSERT INTO users (id, handle) VALUES (?, ?)")
    .bind(id, `${name}_${Date.now().toString(36)}`)
    .run();
  return { id, token: await signAccessToken(e, id) };
}

async function link(token: string, wallet: ReturnType<typeof privateKeyToAccount>) {
  const challenge = await call(e, "POST", "/v1/auth/siwe/challenge", { body: { address: wallet.address } });
  const signature = await wallet.signMessage({ message: challenge.body.message });
  return call(e, "POST", "/v1/me/wallet", { token, body: { message: challenge.body.message, signature } });
}

const unclaimedOf = (a: Address) =>
  env.DB.prepare("SELECT amount, last_block, last_log_index FROM unclaimed_deposits WHERE address = ?")
    .bind(a)
    .first<{ amount: string; last_block: number; last_log_index: number }>();

describe("a reindex after an unclaimed-funds claim", () => {
  let bob: Awaited<ReturnType<typeof signUp>>;
  let carol: Awaited<ReturnType<typeof walletless>>;
  const wallet = privateKeyToAccount(generatePrivateKey());
  const stranger = privateKeyToAccount(generatePrivateKey());
  let firstBlock = 0;

  beforeAll(async () => {
    bob = await signUp("bob");
    carol = await walletless("carol");
    await chain.fund(bob.account.address, 0n);
    await chain.fund(wallet.address, 10n * USDC);
    await chain.fund(stranger.address, 5n * USDC);
  });

  it("credits what was folded before the link once, by the claim", async () => {
    // Before the link: every kind of event that is folded for an address.
    const dep = await chain.deposit(wallet, 6n * USDC); // Deposited(user)
    firstBlock = Number(dep.blockNumber);
    await chain.withdraw(wallet, USDC); // Withdrawn(user)
    await chain.payDirect(wallet, bob.account.address, USDC, keccak256(toHex("to bob"))); // MessagePaid(payer)
    await chain.deposit(stranger, 3n * USDC);
    await chain.payDirect(stranger, wallet.address, 2n * USDC, keccak256(toHex("to wallet"))); // MessagePaid(recipient)
    await confirmAndIndex();
    const folded = 6n * USDC - USDC - (USDC + 25_000n) + 2n * USDC;
    expect(await chain.vaultBalance(wallet.address)).toBe(folded);
    expect((await unclaimedOf(wallet.address))?.amount).toBe(`${folded}`);

    expect((await link(carol.token, wallet)).status).toBe(200);
    await runCron(e);
    await runCron(e); // a second run claims nothing twice
    expect(await money(e, carol.token)).toEqual({ balance: folded, held: 0n });
    expect(await unclaimedOf(wallet.address)).toBeNull();
    const ledger = await ledgerOf(carol.token);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ kind: "deposit", amount: `${folded}` });
    expect(ledger[0].ref.startsWith(`unclaimed:${wallet.address}:`)).toBe(true);
    await expectConsistent(chain, [
      { id: carol.id, address: wallet.address },
      { id: bob.user.id, address: bob.account.address },
    ]);
  });

  it("a reindex from before the folded events credits nothing twice; a deposit after the link still counts once", async () => {
    const later = await chain.deposit(wallet, 2n * USDC);
    await confirmAndIndex();
    const carolBefore = await money(e, carol.token);
    expect(carolBefore.balance).toBe(await chain.vaultBalance(wallet.address));
    const carolLedger = await ledgerOf(carol.token);
    expect(carolLedger.filter((l) => l.ref.startsWith(later.transactionHash))).toHaveLength(1);
    const bobBefore = await money(e, bob.accessToken);
    const bobLedger = await ledgerOf(bob.accessToken);

    const r = await call(e, "POST", "/v1/ops/reindex", { headers: admin, body: { fromBlock: firstBlock - 1 } });
    expect(r.status).toBe(200);
    await runCron(e);
    const head = Number(await chain.pub.getBlockNumber());
    const status = await call(e, "GET", "/v1/ops/status", { headers: admin });
    expect(status.body.indexer.checkpointBlock).toBe(head - 2); // caught up again

    expect(await money(e, carol.token)).toEqual(carolBefore);
    expect(await ledgerOf(carol.token)).toEqual(carolLedger);
    expect(await money(e, bob.accessToken)).toEqual(bobBefore);
    expect(await ledgerOf(bob.accessToken)).toEqual(bobLedger);
    await expectConsistent(chain, [
      { id: carol.id, address: wallet.address },
      { id: bob.user.id, address: bob.account.address },
    ]);

    // And the wallet's next event is applied as usual.
    await chain.withdraw(wallet, USDC);
    await confirmAndIndex();
    expect((await money(e, carol.token)).balance).toBe(carolBefore.balance - USDC);
    await expectConsistent(chain, [{ id: carol.id, address: wallet.address }]);
  });

  it("the Account keeps one position per claimed address, not a row per event", async () => {
    const rows = await runInDurableObject(env.ACCOUNT.getByName(carol.id), (_a: Account, state) =>
      state.storage.sql.exec("SELECT * FROM chain_claims").toArray(),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ address: wallet.address });
  });
});
