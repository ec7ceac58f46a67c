// Indexer runs never step side by side (worker/chain/indexer-lease.ts): cron
// invocations overlap, and two runs folding unclaimed funds at once could lose
// or double-credit money. And a claim of unclaimed funds that races a fold
// (worker/chain/unclaimed.ts) takes out exactly what it credited. On a real
// anvil of its own, through the real indexer and Accounts.
import { env } from "cloudflare:test";
import { parseEventLogs } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { vaultAbi } from "../worker/chain/abis";
import { chainConfig } from "../worker/chain/config";
import { checkpointId, readCheckpoint, runIndexer } from "../worker/chain/indexer";
import { claimOne, claimUnclaimed, foldUnclaimed, pendingClaims } from "../worker/chain/unclaimed";
import {
  CONFIRMATIONS,
  chainEnv,
  chainTools,
  expectConsistent,
  linkWallet,
  money,
  unclaimedOf,
  walletless,
} from "./chain-helpers";
import { signUp } from "./helpers";

const info = inject("chains").lease;
const e = chainEnv(info, { INDEXER_POLL_MS: "20" });
const chain = chainTools(info);
const c = chainConfig(e)!;
const USDC = 1_000_000n;
const leaseId = checkpointId(c);

const lease = () =>
  env.DB.prepare("SELECT holder, until FROM indexer_leases WHERE id = ?")
    .bind(leaseId)
    .first<{ holder: string; until: number }>();
const setLease = (holder: string, until: number) =>
  env.DB.prepare(
    `INSERT INTO indexer_leases (id, holder, until) VALUES (?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, until = excluded.until`,
  )
    .bind(leaseId, holder, until)
    .run();
const checkpointBlock = async () => (await readCheckpoint(e, c))?.blockNumber ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the indexer lease", () => {
  let alice: Awaited<ReturnType<typeof signUp>>;
  const stranger = privateKeyToAccount(generatePrivateKey());

  beforeAll(async () => {
    alice = await signUp("alice");
    await chain.fund(alice.account.address, 100n * USDC);
    await chain.fund(stranger.address, 100n * USDC);
  });

  it("lets one of two concurrent runs step; the other returns at once and nothing is credited twice", async () => {
    for (let i = 0; i < 3; i++) {
      await chain.deposit(alice.account, 2n * USDC);
      await chain.deposit(stranger, 3n * USDC); // unlinked: folded into unclaimed funds
    }
    await chain.mine(CONFIRMATIONS);
    const ended: number[] = [];
    const run = (i: number) =>
      runIndexer(e, { runMs: 400 }).then((steps) => {
        ended[i] = Date.now();
        return steps;
      });
    const [a, b] = await Promise.all([run(0), run(1)]);
    const [winner, loser] = a.length ? [0, 1] : [1, 0];
    expect([a, b][winner].length).toBeGreaterThan(0);
    expect([a, b][loser]).toEqual([]);
    // The loser did not wait for the winner's run time.
    expect(ended[loser]).toBeLessThan(ended[winner]);
    expect((await money(e, alice.accessToken)).balance).toBe(6n * USDC);
    expect((await unclaimedOf(stranger.address))?.amount).toBe(`${9n * USDC}`);
    await expectConsistent(chain, [{ id: alice.user.id, address: alice.account.address }]);
    // Released at the end of the run: the next one need not wait.
    expect((await lease())?.until).toBe(0);
  });

  it("keeps out a run while another holds the lease, and takes over a lease whose holder died", async () => {
    await setLease("live-run", Date.now() + 60_000);
    await chain.deposit(alice.account, USDC);
    await chain.mine(CONFIRMATIONS);
    expect(await runIndexer(e)).toEqual([]);
    expect((await money(e, alice.accessToken)).balance).toBe(6n * USDC);

    await setLease("dead-run", Date.now() - 1); // lapsed: its holder never renewed it
    const steps = await runIndexer(e);
    expect(steps.length).toBeGreaterThan(0);
    expect((await money(e, alice.accessToken)).balance).toBe(7n * USDC);
    expect((await lease())?.holder).not.toBe("dead-run");
    await expectConsistent(chain, [{ id: alice.user.id, address: alice.account.address }]);
  });

  it("stops a run that lost its lease before its next step", async () => {
    const started = Date.now();
    const running = runIndexer(e, { runMs: 5_000 });
    // Wait until the run holds the lease and has stepped to the head.
    for (let i = 0; ; i++) {
      const l = await lease();
      if (
        l &&
        l.until > Date.now() &&
        (await checkpointBlock()) >= Number(await chain.pub.getBlockNumber()) - CONFIRMATIONS
      )
        break;
      if (i > 200) throw new Error("the run never took the lease");
      await sleep(10);
    }
    // Another run takes it (as if this one had stalled past LEASE_MS).
    await setLease("thief", Date.now() + 60_000);
    await sleep(300); // a step already under way finishes
    const before = await checkpointBlock();
    await chain.deposit(alice.account, USDC);
    await chain.mine(CONFIRMATIONS);
    const steps = await running;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(steps.length).toBeGreaterThan(0);
    // No step after the theft: the deposit is not indexed, the checkpoint did not move.
    expect(await checkpointBlock()).toBe(before);
    expect((await money(e, alice.accessToken)).balance).toBe(7n * USDC);
    // The thief's lease is untouched by the stopped run's release.
    expect(await lease()).toMatchObject({ holder: "thief" });

    await setLease("thief", 0); // the thief is done
    expect((await runIndexer(e)).length).toBeGreaterThan(0);
    expect((await money(e, alice.accessToken)).balance).toBe(8n * USDC);
    await expectConsistent(chain, [{ id: alice.user.id, address: alice.account.address }]);
  });
});

describe("a claim of unclaimed funds racing a fold", () => {
  it("credits what it read, leaves what was folded after, and credits that once by the next claim", async () => {
    const carol = await walletless(e, "carol");
    const wallet = privateKeyToAccount(generatePrivateKey());
    await chain.fund(wallet.address, 10n * USDC);
    await chain.deposit(wallet, 3n * USDC);
    await chain.mine(CONFIRMATIONS);
    await runIndexer(e);
    const folded = await unclaimedOf(wallet.address);
    expect(folded?.amount).toBe(`${3n * USDC}`);

    // A second deposit, on chain and confirmed but not indexed yet.
    const second = await chain.deposit(wallet, 2n * USDC);
    const [dep] = parseEventLogs({ abi: vaultAbi, logs: second.logs, eventName: "Deposited" });
    await chain.mine(CONFIRMATIONS);
    expect((await linkWallet(e, carol.token, wallet)).status).toBe(200);

    // The claim reads the row (3 USDC) ...
    const [row] = (await pendingClaims(e)).filter((r) => r.address === wallet.address);
    expect(row).toMatchObject({ amount: `${3n * USDC}`, user_id: carol.id });
    // ... a fold lands (a run that looked the wallet up before the link) ...
    await foldUnclaimed(e, wallet.address, 2n * USDC, { block: Number(dep.blockNumber), logIndex: dep.logIndex });
    // ... then the claim credits and settles the row it read.
    await claimOne(e, row);
    expect((await money(e, carol.token)).balance).toBe(3n * USDC);
    // The fold is not lost, and what was credited is not left in the row.
    expect(await unclaimedOf(wallet.address)).toMatchObject({
      amount: `${2n * USDC}`,
      last_block: Number(dep.blockNumber),
      last_log_index: dep.logIndex,
    });

    expect(await claimUnclaimed(e)).toBe(1);
    expect(await unclaimedOf(wallet.address)).toBeNull();
    // The indexer now reads the second deposit for the linked wallet: it is in the claim already.
    await runIndexer(e);
    expect((await money(e, carol.token)).balance).toBe(5n * USDC);
    await expectConsistent(chain, [{ id: carol.id, address: wallet.address }]);
  });
});
