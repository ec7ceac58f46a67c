// Chain mode under trouble, on its own anvil reached through a proxy that can go
// down or duplicate logs (test/fakes/rpc-proxy.mjs). After each: balances match
// the vault and money is conserved.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, inject, it } from "vitest";
import {
  CONFIRMATIONS,
  call,
  chainEnv,
  chainTools,
  confirmAndIndex as confirmAndIndexWith,
  expectConsistent as expectConsistentWith,
  jobsOf,
  money,
  paySend,
  runCron,
} from "./chain-helpers";
import { signIn, signUp } from "./helpers";

const info = inject("chains").chaos;
const proxyUrl = info.proxyUrl as string;
// The Worker talks to the chain through the proxy; the test's own viem clients go straight to anvil.
const e = chainEnv({ ...info, rpcUrl: proxyUrl });
const chain = chainTools(info);
const USDC = 1_000_000n;

const control = (state: { down?: boolean; failGetLogsAfter?: number | null; duplicateLogs?: boolean }) =>
  fetch(`${proxyUrl}/__control`, { method: "POST", body: JSON.stringify(state) });

async function confirmAndIndex(target = e) {
  await confirmAndIndexWith(target, chain);
}

const users: { id: string; address: Address; token: string }[] = [];

async function user(prefix: string, usdc = 0n) {
  const u = await signUp(prefix);
  await chain.fund(u.account.address, usdc);
  users.push({ id: u.user.id, address: u.account.address, token: u.accessToken });
  return u;
}

const expectConsistent = () => expectConsistentWith(chain, users);

beforeAll(async () => {
  await control({});
});

describe("indexer chaos", () => {
  it("RPC down in the middle of indexing: resumes from the checkpoint, nothing lost or doubled", async () => {
    const dora = await user("dora", 100n * USDC);
    // Three deposits in separate blocks, read one block per getLogs so indexing takes several steps.
    const receipts = [];
    for (const amount of [1n, 2n, 3n]) receipts.push(await chain.deposit(dora.account, amount * USDC));
    await chain.mine(CONFIRMATIONS);
    const narrow = chainEnv({ ...info, rpcUrl: proxyUrl }, { INDEXER_MAX_RANGE: "1" });
    await control({ failGetLogsAfter: 0 });
    await runCron(narrow); // fails at its first getLogs: nothing moves
    expect(await env.DB.prepare("SELECT 1 FROM chain_checkpoints").first()).toBeNull();
    // Enough good getLogs to pass the first deposit's block, then the RPC goes down mid-way.
    await control({ failGetLogsAfter: Number(receipts[0].blockNumber) - info.deployBlock + 1 });
    await runCron(narrow);
    expect(await money(e, dora.accessToken)).toEqual({ balance: 1n * USDC, held: 0n });
    const cp = await env.DB.prepare("SELECT block_number FROM chain_checkpoints").first<{ block_number: number }>();
    expect(cp?.block_number).toBe(Number(receipts[0].blockNumber));
    await control({});
    await runCron(narrow);
    expect(await money(e, dora.accessToken)).toEqual({ balance: 6n * USDC, held: 0n });
    const ledger = await call(e, "GET", "/v1/payments/ledger", { token: dora.accessToken });
    expect(ledger.body.entries.map((x: any) => x.amount)).toEqual(["3000000", "2000000", "1000000"]);
    await expectConsistent();
  });

  it("duplicate logs (and a range read twice) are applied once", async () => {
    const eve = await user("eve", 10n * USDC);
    await chain.deposit(eve.account, 4n * USDC);
    await control({ duplicateLogs: true });
    await confirmAndIndex();
    expect(await money(e, eve.accessToken)).toEqual({ balance: 4n * USDC, held: 0n });
    // Forget the checkpoint: everything since the deploy block is read again.
    await env.DB.prepare("DELETE FROM chain_checkpoints").run();
    await runCron(e);
    await control({});
    expect(await money(e, eve.accessToken)).toEqual({ balance: 4n * USDC, held: 0n });
    await expectConsistent();
  });

  it("a reorg shallower than CONFIRMATIONS: only the surviving chain's deposit is credited", async () => {
    const finn = await user("finn", 20n * USDC);
    await chain.fund(finn.account.address, 0n);
    const snap = await chain.snapshot();
    await chain.deposit(finn.account, 7n * USDC); // approve + deposit: 2 blocks, not yet CONFIRMATIONS deep
    await runCron(e);
    expect((await money(e, finn.accessToken)).balance).toBe(0n);
    await chain.revert(snap); // those blocks vanish…
    await chain.deposit(finn.account, 3n * USDC); // …and different ones take their numbers
    await confirmAndIndex();
    expect(await money(e, finn.accessToken)).toEqual({ balance: 3n * USDC, held: 0n });
    await expectConsistent();
  });

  it("a reorg below the checkpoint is detected by its hash and the range is read again", async () => {
    const gus = await user("gus", 20n * USDC);
    const snap = await chain.snapshot();
    await chain.mine(5);
    await runCron(e);
    const cp1 = await env.DB.prepare("SELECT block_number, block_hash FROM chain_checkpoints").first<any>();
    await chain.revert(snap);
    await chain.deposit(gus.account, 2n * USDC);
    await chain.mine(5 + CONFIRMATIONS);
    await runCron(e);
    const cp2 = await env.DB.prepare("SELECT block_number, block_hash FROM chain_checkpoints").first<any>();
    expect(cp2.block_hash).not.toBe(cp1.block_hash);
    expect(await money(e, gus.accessToken)).toEqual({ balance: 2n * USDC, held: 0n });
    await expectConsistent();
  });
});

describe("payments under trouble", () => {
  let payer: Awaited<ReturnType<typeof signUp>>;
  let payee: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    payer = await user("payer", 100n * USDC);
    payee = await user("payee", 0n);
  });

  it("payer withdraws on chain before settlement: payment_failed, hold released, nothing credited", async () => {
    await chain.deposit(payer.account, 10n * USDC);
    await confirmAndIndex();
    const sent = await paySend(e, payer.accessToken, payee.handle, "race me", payer.account);
    expect(sent.status).toBe(201);
    expect(await money(e, payer.accessToken)).toEqual({ balance: 10n * USDC - 1_025_000n, held: 1_025_000n });
    const jobs = await jobsOf(payer.user.id, 1);

    await chain.withdraw(payer.account, 10n * USDC); // everything, pending payment included
    await confirmAndIndex();
    // The mirror follows the chain: nothing left, the pending payment no longer covered.
    expect(await money(e, payer.accessToken)).toEqual({ balance: 0n, held: 0n });
    await expectConsistent();

    const receipt = await chain.settle(jobs);
    expect(chain.skippedEvents(receipt)).toHaveLength(1);
    await confirmAndIndex();
    const out = await call(e, "GET", "/v1/outbox", { token: payer.accessToken });
    expect(out.body.messages[0]).toMatchObject({
      messageId: sent.body.messageId,
      status: "payment_failed",
      failure: "InsufficientBalance",
      txHash: null,
    });
    const inbox = await call(e, "GET", `/v1/inbox/${sent.body.messageId}`, { token: payee.accessToken });
    expect(inbox.body.status).toBe("payment_failed");
    expect(await money(e, payee.accessToken)).toEqual({ balance: 0n, held: 0n });
    expect(await money(e, payer.accessToken)).toEqual({ balance: 0n, held: 0n });
    await expectConsistent();
  });

  it("after a failed payment (its nonce unused on chain) the next one takes that nonce and settles", async () => {
    await chain.deposit(payer.account, 5n * USDC);
    await confirmAndIndex();
    const abandoned = await call(e, "POST", "/v1/payments/intents", {
      token: payer.accessToken,
      body: { to: payee.handle, body: "abandoned" },
    });
    expect(abandoned.status).toBe(200);
    const sent = await paySend(e, payer.accessToken, payee.handle, "second try", payer.account);
    expect(sent.status).toBe(201);
    const jobs = await jobsOf(payer.user.id, 1);
    expect(jobs[0].payment.nonce).toBe("0");
    const receipt = await chain.settle(jobs);
    expect(chain.paidEvents(receipt)).toHaveLength(1);
    await confirmAndIndex();
    const inbox = await call(e, "GET", `/v1/inbox/${sent.body.messageId}`, { token: payee.accessToken });
    expect(inbox.body).toMatchObject({ status: "paid", txHash: receipt.transactionHash });
    expect(await money(e, payee.accessToken)).toEqual({ balance: USDC, held: 0n });
    await expectConsistent();
  });

  it("a SettleJob submitted twice pays once (the duplicate is skipped and ignored)", async () => {
    const sent = await paySend(e, payer.accessToken, payee.handle, "twice", payer.account);
    expect(sent.status).toBe(201);
    const jobs = await jobsOf(payer.user.id, 1);
    const receipt = await chain.settle([...jobs, ...jobs]);
    expect(chain.paidEvents(receipt)).toHaveLength(1);
    expect(chain.skippedEvents(receipt)).toHaveLength(1);
    await confirmAndIndex();
    const inbox = await call(e, "GET", `/v1/inbox/${sent.body.messageId}`, { token: payee.accessToken });
    expect(inbox.body.status).toBe("paid");
    expect(await money(e, payee.accessToken)).toEqual({ balance: 2n * USDC, held: 0n });
    await expectConsistent();
  });

  it("vault funds of an address nobody had linked are credited once its owner signs in", async () => {
    const outsider = privateKeyToAccount(generatePrivateKey());
    await chain.fund(outsider.address, 3n * USDC);
    await chain.deposit(outsider, 3n * USDC);
    await confirmAndIndex();
    // Signing in later credits what the address holds in the vault.
    const s = await signIn(outsider);
    users.push({ id: s.user.id, address: outsider.address, token: s.accessToken });
    await runCron(e);
    expect(await money(e, s.accessToken)).toEqual({ balance: 3n * USDC, held: 0n });
    await expectConsistent();
  });

  it("payments submitted out of nonce order: the early one waits for its turn instead of failing", async () => {
    await chain.deposit(payer.account, 4n * USDC);
    await confirmAndIndex();
    const first = await paySend(e, payer.accessToken, payee.handle, "first", payer.account);
    const second = await paySend(e, payer.accessToken, payee.handle, "second", payer.account);
    expect([first.status, second.status]).toEqual([201, 201]);
    const [a, b] = await jobsOf(payer.user.id, 2);
    const receipt = await chain.settle([b, a]); // the later nonce first: the vault skips it
    expect(chain.skippedEvents(receipt)).toHaveLength(1);
    await confirmAndIndex();
    const out = await call(e, "GET", "/v1/outbox", { token: payer.accessToken });
    const statusOf = (id: string) => out.body.messages.find((m: any) => m.messageId === id).status;
    expect(statusOf(first.body.messageId)).toBe("paid");
    expect(statusOf(second.body.messageId)).toBe("accepted"); // back in the queue, not failed
    const again = await jobsOf(payer.user.id, 1);
    expect(again.map((j) => j.payment.messageId)).toEqual([second.body.messageId]);
    expect(chain.paidEvents(await chain.settle(again))).toHaveLength(1);
    await confirmAndIndex();
    const m = await call(e, "GET", `/v1/inbox/${second.body.messageId}`, { token: payee.accessToken });
    expect(m.body.status).toBe("paid");
    await expectConsistent();
  });

  // Last in the file: it moves the chain's clock two hours ahead.
  it("a payment never settled by its deadline fails once the indexed chain is past it (a lost SettleJob)", async () => {
    await chain.deposit(payer.account, 2n * USDC);
    await confirmAndIndex();
    const before = await money(e, payer.accessToken);
    const sent = await paySend(e, payer.accessToken, payee.handle, "lost job", payer.account);
    expect(sent.status).toBe(201);
    const [job] = await jobsOf(payer.user.id, 1);
    const stub = env.ACCOUNT.getByName(payer.user.id);
    await runDurableObjectAlarm(stub); // deadline not reached: stays accepted
    expect((await money(e, payer.accessToken)).held).toBe(1_025_000n);

    await chain.rpc("evm_increaseTime", [7_200]);
    await chain.mine(1); // a block past the deadline…
    await confirmAndIndex(); // …under CONFIRMATIONS more, so the checkpoint reaches it
    await runDurableObjectAlarm(stub);
    const out = await call(e, "GET", "/v1/outbox", { token: payer.accessToken });
    expect(out.body.messages[0]).toMatchObject({ status: "payment_failed", failure: "PaymentExpired" });
    const inbox = await call(e, "GET", `/v1/inbox/${sent.body.messageId}`, { token: payee.accessToken });
    expect(inbox.body.status).toBe("payment_failed");
    expect(await money(e, payer.accessToken)).toEqual(before);

    // The job turning up late changes nothing: the vault skips it.
    const receipt = await chain.settle([job]);
    expect(chain.skippedEvents(receipt)).toHaveLength(1);
    await confirmAndIndex();
    expect(await money(e, payer.accessToken)).toEqual(before);
    await expectConsistent();
  });
});
