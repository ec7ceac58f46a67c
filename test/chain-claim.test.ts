// Funds that reached a wallet before anybody linked it are credited by one
// `unclaimed:` claim (worker/chain/unclaimed.ts). An ops reindex from before
// those events hands them to the Account again, now under their own
// `txHash:logIndex` refs: the Account must know they are already in its claim
// (durable-objects/account/chain-claims.ts) and credit nothing twice. On a real
// anvil of its own, through the HTTP API and the real cron handler.
import { env, runInDurableObject } from "cloudflare:test";
import { keccak256, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { Account } from "../durable-objects/account";
import { backfillClaims } from "../durable-objects/account/chain-claims";
import {
  call,
  chainEnv,
  chainTools,
  confirmAndIndex as confirmAndIndexWith,
  expectConsistent,
  linkWallet,
  money,
  runCron,
  unclaimedOf,
  walletless,
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

describe("a reindex after an unclaimed-funds claim", () => {
  let bob: Awaited<ReturnType<typeof signUp>>;
  let carol: Awaited<ReturnType<typeof walletless>>;
  let dave: Awaited<ReturnType<typeof walletless>>;
  const wallet = privateKeyToAccount(generatePrivateKey());
  /** Deposits and withdraws it all before the link: a claim of nothing. */
  const emptied = privateKeyToAccount(generatePrivateKey());
  const stranger = privateKeyToAccount(generatePrivateKey());
  let firstBlock = 0;

  beforeAll(async () => {
    bob = await signUp("bob");
    carol = await walletless(e, "carol");
    dave = await walletless(e, "dave");
    await chain.fund(emptied.address, USDC);
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
    await chain.deposit(emptied, USDC);
    await chain.withdraw(emptied, USDC);
    await confirmAndIndex();
    const folded = 6n * USDC - USDC - (USDC + 25_000n) + 2n * USDC;
    expect(await chain.vaultBalance(wallet.address)).toBe(folded);
    expect((await unclaimedOf(wallet.address))?.amount).toBe(`${folded}`);

    expect((await unclaimedOf(emptied.address))?.amount).toBe("0");

    expect((await linkWallet(e, carol.token, wallet)).status).toBe(200);
    expect((await linkWallet(e, dave.token, emptied)).status).toBe(200);
    await runCron(e);
    await runCron(e); // a second run claims nothing twice
    expect(await money(e, carol.token)).toEqual({ balance: folded, held: 0n });
    expect(await unclaimedOf(wallet.address)).toBeNull();
    const ledger = await ledgerOf(carol.token);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ kind: "deposit", amount: `${folded}` });
    expect(ledger[0].ref.startsWith(`unclaimed:${wallet.address}:`)).toBe(true);
    expect(await unclaimedOf(emptied.address)).toBeNull();
    expect(await ledgerOf(dave.token)).toEqual([]); // nothing to credit, no entry
    await expectConsistent(chain, [
      { id: carol.id, address: wallet.address },
      { id: bob.user.id, address: bob.account.address },
      { id: dave.id, address: emptied.address },
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
    // Its deposit and withdrawal netted to the empty claim: not booked again either.
    expect(await ledgerOf(dave.token)).toEqual([]);
    await expectConsistent(chain, [
      { id: carol.id, address: wallet.address },
      { id: bob.user.id, address: bob.account.address },
      { id: dave.id, address: emptied.address },
    ]);

    // And the wallet's next event is applied as usual.
    await chain.withdraw(wallet, USDC);
    await confirmAndIndex();
    expect((await money(e, carol.token)).balance).toBe(carolBefore.balance - USDC);
    await expectConsistent(chain, [{ id: carol.id, address: wallet.address }]);
  });

  it("the Account keeps one position per claimed address, not a row per event", async () => {
    const claimed = await unclaimedPositions(carol.id);
    expect(claimed).toEqual([{ address: wallet.address, block: expect.any(Number), log_index: expect.any(Number) }]);
    expect(claimed[0].block).toBeGreaterThanOrEqual(firstBlock);
    expect(await unclaimedPositions(dave.id)).toEqual([
      { address: emptied.address, block: expect.any(Number), log_index: expect.any(Number) },
    ]);
  });
});

const unclaimedPositions = (id: string) =>
  runInDurableObject(env.ACCOUNT.getByName(id), (_a: Account, state) =>
    state.storage.sql.exec("SELECT address, block, log_index FROM chain_claims").toArray(),
  );

const sqlOf = (id: string, query: string, ...args: SqlStorageValue[]) =>
  runInDurableObject(env.ACCOUNT.getByName(id), (_a: Account, state) =>
    state.storage.sql.exec(query, ...args).toArray(),
  );

describe("claimed positions inside the Account", () => {
  const W = privateKeyToAccount(generatePrivateKey()).address;
  const ref = (n: number) => `0x${n.toString(16).padStart(64, "0")}:0`;

  it("a claim retried after its ref was pruned (30 days) still credits once", async () => {
    const { id } = await walletless(e, "retry");
    const stub = env.ACCOUNT.getByName(id);
    const claim = {
      t: "claim",
      ref: `unclaimed:${W}:40:2`,
      amount: "700",
      wallet: W,
      through: { block: 40, logIndex: 2 },
    } as const;
    expect(await stub.chainApply(claim)).toEqual({ applied: true });
    await sqlOf(id, "UPDATE chain_applied SET applied_at = applied_at - ?", 31 * 86_400_000);
    await stub.archiveOldMessages(); // the retention sweep prunes the claim's ref
    expect(await sqlOf(id, "SELECT ref FROM chain_applied")).toEqual([]);
    expect(await stub.chainApply(claim)).toEqual({ applied: false });
    expect((await stub.totals()).balance).toBe("700");
    // An event of the claimed wallet after the position is new money; at or before it, in the claim.
    const at = (block: number, logIndex: number, n: number) =>
      stub.chainApply({ t: "deposit", ref: ref(n), amount: "5", block, logIndex, wallet: W });
    expect(await at(40, 2, 1)).toEqual({ applied: false });
    expect(await at(39, 9, 2)).toEqual({ applied: false });
    expect(await at(40, 3, 3)).toEqual({ applied: true });
    // Another wallet's event at the same position is not this claim's.
    const other = privateKeyToAccount(generatePrivateKey()).address;
    expect(
      await stub.chainApply({ t: "deposit", ref: ref(4), amount: "5", block: 30, logIndex: 0, wallet: other }),
    ).toEqual({ applied: true });
    expect((await stub.totals()).balance).toBe("710");
    // Funds folded for the wallet again later (only if it were unlinked and relinked by hand):
    // the next claim is credited and moves the position on; the position never moves back.
    const next = { ...claim, ref: `unclaimed:${W}:50:0`, amount: "20", through: { block: 50, logIndex: 0 } };
    expect(await stub.chainApply(next)).toEqual({ applied: true });
    expect(await at(45, 0, 5)).toEqual({ applied: false });
    expect(
      await stub.chainApply({ ...claim, ref: `unclaimed:${W}:41:0`, through: { block: 41, logIndex: 0 } }),
    ).toEqual({
      applied: false,
    });
    expect(await sqlOf(id, "SELECT block, log_index FROM chain_claims")).toEqual([{ block: 50, log_index: 0 }]);
    expect((await stub.totals()).balance).toBe("730");
  });

  it("v14 carries the positions of claims applied before it from their refs", async () => {
    const { id } = await walletless(e, "backfill");
    const other = privateKeyToAccount(generatePrivateKey()).address;
    // As an Account that applied these claims at v13 (before chain_claims existed).
    await sqlOf(id, "DELETE FROM chain_claims");
    for (const r of [`unclaimed:${W}:12:0`, `unclaimed:${W}:9:7`, `unclaimed:${other}:100:11`, ref(5)]) {
      await sqlOf(id, "INSERT INTO chain_applied (ref, applied_at) VALUES (?, ?)", r, Date.now());
    }
    await sqlOf(id, backfillClaims());
    expect(await sqlOf(id, "SELECT address, block, log_index FROM chain_claims ORDER BY block")).toEqual([
      { address: W, block: 12, log_index: 0 },
      { address: other, block: 100, log_index: 11 },
    ]);
  });
});
