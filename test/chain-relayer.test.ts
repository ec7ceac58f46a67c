// Chain mode through the real settlement path, on its own anvil: a send through
// the HTTP API in chain mode → the sender's Account puts the SettleJob on the
// `settle` queue → the queue's real consumer → the Relayer Durable Object →
// settleBatchPacked on anvil → the real cron indexer applies MessagePaid → the
// message shows `paid`. Then the relayer-side chaos the issue lists: a
// transaction dropped from the mempool, a stuck one replaced by a fee bump, the
// payer withdrawing before the relayer settles, an abandoned intent, and a
// settlement that keeps reverting (reported back to the payer's Account). After
// each: one MessagePaid at most per message, mirrors equal vault balances, money
// conserved. Nothing here settles by hand.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { decodeFunctionData, getAddress, type Hex, parseEventLogs } from "viem";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { RelayerSettings, RelayerStatus } from "../durable-objects/relayer";
import { MAX_JOB_ATTEMPTS } from "../durable-objects/relayer/store";
import { vaultAbi } from "../worker/chain/abis";
import { relayerStub } from "../worker/chain/relayer-status";
import {
  call,
  chainEnv,
  chainTools,
  confirmAndIndex as confirmAndIndexWith,
  expectConsistent as expectConsistentWith,
  money,
  paySend,
} from "./chain-helpers";
import { signUp } from "./helpers";
import { waitFor } from "./relayer-helpers";

const info = inject("chains").relayerPath;
const e = chainEnv(info);
const chain = chainTools(info);
const USDC = 1_000_000n;
const TOTAL = 1_025_000n; // 1 USDC price + 2.5 % fee

const relayer = () => relayerStub(env);
const status = (): Promise<RelayerStatus> => relayer().status();
const RUNNING: Partial<RelayerSettings> = {
  rpcUrl: info.rpcUrl,
  chainId: info.chainId,
  vault: info.vault,
  pollMs: 100,
  stuckMs: 60_000,
};
const runRelayer = (s: Partial<RelayerSettings> = {}) => relayer().configure({ ...RUNNING, ...s });
/** No RPC URL: the Relayer keeps what the queue hands it and sends nothing (a relayer that is down). */
const pauseRelayer = () => relayer().configure({ ...RUNNING, rpcUrl: "" });
const confirmAndIndex = () => confirmAndIndexWith(e, chain);

const users: { id: string; address: Hex }[] = [];
async function user(prefix: string, deposit = 0n) {
  const u = await signUp(prefix);
  await chain.fund(u.account.address, deposit);
  if (deposit > 0n) await chain.deposit(u.account, deposit);
  users.push({ id: u.user.id, address: u.account.address });
  return u;
}
const expectConsistent = () => expectConsistentWith(chain, users);

/** Every vault event about `messageId` so far. */
async function eventsFor(messageId: Hex) {
  const logs = await chain.pub.getLogs({ address: info.vault, fromBlock: BigInt(info.deployBlock) });
  return parseEventLogs({ abi: vaultAbi, logs }).filter(
    (x) => (x.eventName === "MessagePaid" || x.eventName === "PaymentSkipped") && x.args.messageId === messageId,
  );
}

/** Waits for the relayer's transaction about `messageId` to be mined; returns its events. */
function settled(messageId: Hex, ms = 20_000) {
  return waitFor(
    `settlement of ${messageId}`,
    async () => {
      const events = await eventsFor(messageId);
      return events.length > 0 ? events : null;
    },
    ms,
  );
}

const idle = () =>
  waitFor("relayer idle", async () => {
    const s = await status();
    return s.inFlight.length === 0 && s.queued === 0 ? s : null;
  });

async function outboxEntry(token: string, messageId: string) {
  const out = await call(e, "GET", "/v1/outbox", { token });
  return out.body.messages.find((m: any) => m.messageId === messageId);
}

let alice: Awaited<ReturnType<typeof user>>;
let bob: Awaited<ReturnType<typeof user>>;

beforeAll(async () => {
  await runRelayer();
  alice = await user("alice", 50n * USDC);
  bob = await user("bob");
  await confirmAndIndex();
  expect(await money(e, alice.accessToken)).toEqual({ balance: 50n * USDC, held: 0n });
});

afterEach(async () => {
  await chain.rpc("evm_setAutomine", [true]);
  await runRelayer();
  await idle();
});

describe("chain mode through the relayer", () => {
  it("send through the API → settle queue → Relayer → settleBatchPacked → indexer → paid", async () => {
    const sent = await paySend(e, alice.accessToken, bob.handle, "through the relayer", alice.account);
    expect(sent.status).toBe(201);
    expect(sent.body.status).toBe("accepted");
    const messageId = sent.body.messageId as Hex;

    const [paid] = await settled(messageId);
    expect(paid.eventName).toBe("MessagePaid");
    // Sent by the Relayer's key, through the packed entry point.
    const tx = await chain.pub.getTransaction({ hash: paid.transactionHash });
    expect(getAddress(tx.from)).toBe((await status()).relayer);
    expect(decodeFunctionData({ abi: vaultAbi, data: tx.input }).functionName).toBe("settleBatchPacked");
    // Mined but not yet CONFIRMATIONS deep: still accepted.
    expect((await outboxEntry(alice.accessToken, messageId)).status).toBe("accepted");

    await confirmAndIndex();
    const m = await call(e, "GET", `/v1/inbox/${messageId}`, { token: bob.accessToken });
    expect(m.body).toMatchObject({ status: "paid", txHash: paid.transactionHash });
    expect(await outboxEntry(alice.accessToken, messageId)).toMatchObject({
      status: "paid",
      txHash: paid.transactionHash,
    });
    expect(await money(e, alice.accessToken)).toEqual({ balance: 50n * USDC - TOTAL, held: 0n });
    expect(await money(e, bob.accessToken)).toEqual({ balance: USDC, held: 0n });
    const s = await idle();
    expect(s.recent.find((t) => t.minedHash === paid.transactionHash)?.state).toBe("mined");
    await expectConsistent();
  });

  it("after the sender's alarm ran with nothing to settle, its next payments still reach the relayer", async () => {
    // Regression: a send run that found nothing to do left a settled promise behind that
    // stood in for every later run, so no SettleJob of this Account reached the queue again.
    const stub = env.ACCOUNT.getByName(alice.user.id);
    await runInDurableObject(stub, (_a, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    for (const body of ["after an idle alarm", "and another"]) {
      const sent = await paySend(e, alice.accessToken, bob.handle, body, alice.account);
      expect(sent.status).toBe(201);
      const [paid] = await settled(sent.body.messageId);
      expect(paid.eventName).toBe("MessagePaid");
    }
    await confirmAndIndex();
    await expectConsistent();
  });

  it("a relayer transaction dropped from the mempool is re-sent and pays once", async () => {
    const before = await money(e, bob.accessToken);
    await chain.rpc("evm_setAutomine", [false]);
    const sent = await paySend(e, alice.accessToken, bob.handle, "dropped once", alice.account);
    expect(sent.status).toBe(201);
    const messageId = sent.body.messageId as Hex;
    const inFlight = await waitFor("a broadcast", async () => (await status()).inFlight[0]);
    const { hash } = inFlight.attempts[0];
    expect(await chain.rpc("eth_getTransactionByHash", [hash])).not.toBeNull();

    await chain.rpc("anvil_dropTransaction", [hash]);
    // The Relayer notices (within pollMs: too soon to assert the gap) and broadcasts the same
    // signed bytes again; `broadcasts` only grows when the node no longer knew the hash.
    await waitFor("re-broadcast", async () => {
      const tx = (await status()).inFlight[0];
      return tx?.attempts[0].broadcasts >= 2 && (await chain.rpc("eth_getTransactionByHash", [hash])) !== null;
    });
    expect((await status()).inFlight[0].attempts).toHaveLength(1);
    await chain.mine(1);
    await chain.rpc("evm_setAutomine", [true]);

    const events = await settled(messageId);
    await confirmAndIndex();
    expect(events.map((x) => [x.eventName, x.transactionHash])).toEqual([["MessagePaid", hash]]);
    expect(await outboxEntry(alice.accessToken, messageId)).toMatchObject({ status: "paid", txHash: hash });
    expect((await money(e, bob.accessToken)).balance - before.balance).toBe(USDC);
    await expectConsistent();
  });

  it("a stuck relayer transaction is replaced by a higher fee; only the replacement pays, once", async () => {
    await runRelayer({ stuckMs: 300 });
    await chain.rpc("evm_setAutomine", [false]);
    const sent = await paySend(e, alice.accessToken, bob.handle, "stuck, then bumped", alice.account);
    expect(sent.status).toBe(201);
    const messageId = sent.body.messageId as Hex;
    const bumped = await waitFor("a fee bump", async () => {
      const tx = (await status()).inFlight[0];
      return tx && tx.attempts.length >= 2 ? tx : null;
    });
    const [latest, original] = bumped.attempts;
    expect(BigInt(latest.maxFeePerGas)).toBeGreaterThan(BigInt(original.maxFeePerGas));
    await runRelayer({ stuckMs: 60_000 }); // no further bumps while the block is made
    await chain.mine(1);
    await chain.rpc("evm_setAutomine", [true]);

    const events = await settled(messageId);
    expect(events).toHaveLength(1);
    const mined = events[0].transactionHash;
    expect(bumped.attempts.map((a) => a.hash)).toContain(mined);
    const tx = await chain.pub.getTransaction({ hash: mined });
    expect(tx.nonce).toBe(bumped.nonce);
    await confirmAndIndex();
    expect(await outboxEntry(alice.accessToken, messageId)).toMatchObject({ status: "paid", txHash: mined });
    await expectConsistent();
  });

  it("an abandoned intent blocks nothing: the next message goes through the relayer and is paid", async () => {
    const abandoned = await call(e, "POST", "/v1/payments/intents", {
      token: alice.accessToken,
      body: { to: bob.handle, body: "never sent" },
    });
    expect(abandoned.status).toBe(200);
    const sent = await paySend(e, alice.accessToken, bob.handle, "sent instead", alice.account);
    expect(sent.status).toBe(201);
    expect(sent.body.messageId).not.toBe(abandoned.body.messageId);
    const [paid] = await settled(sent.body.messageId);
    expect(paid.eventName).toBe("MessagePaid");
    await confirmAndIndex();
    expect(await outboxEntry(alice.accessToken, sent.body.messageId)).toMatchObject({ status: "paid" });
    expect(await eventsFor(abandoned.body.messageId)).toEqual([]);
    await expectConsistent();
  });

  it("the payer withdraws before the relayer settles: payment_failed, hold released, nothing credited", async () => {
    const carol = await user("carol", 5n * USDC);
    await confirmAndIndex();
    await pauseRelayer();
    const sent = await paySend(e, carol.accessToken, bob.handle, "race the relayer", carol.account);
    expect(sent.status).toBe(201);
    const messageId = sent.body.messageId as Hex;
    // The job went through the queue and waits in the Relayer.
    await waitFor("the job in the Relayer", async () => (await status()).queued >= 1);
    const bobBefore = await money(e, bob.accessToken);

    await chain.withdraw(carol.account, 5n * USDC);
    await confirmAndIndex();
    expect(await money(e, carol.accessToken)).toEqual({ balance: 0n, held: 0n });

    await runRelayer();
    const events = await settled(messageId);
    expect(events.map((x) => x.eventName)).toEqual(["PaymentSkipped"]);
    await confirmAndIndex();
    expect(await outboxEntry(carol.accessToken, messageId)).toMatchObject({
      status: "payment_failed",
      failure: "InsufficientBalance",
      txHash: null,
    });
    const inbox = await call(e, "GET", `/v1/inbox/${messageId}`, { token: bob.accessToken });
    expect(inbox.body.status).toBe("payment_failed");
    expect(await money(e, bob.accessToken)).toEqual(bobBefore);
    expect(await money(e, carol.accessToken)).toEqual({ balance: 0n, held: 0n });
    await expectConsistent();
  });

  it(`a settlement that reverts ${MAX_JOB_ATTEMPTS}× is reported to the payer's Account: payment_failed, refunded`, async () => {
    const dan = await user("dan", 10n * USDC);
    await confirmAndIndex();
    const vaultCode = (await chain.rpc("eth_getCode", [info.vault, "latest"])) as Hex;
    const bobBefore = await money(e, bob.accessToken);
    await chain.rpc("evm_setAutomine", [false]);
    const sent = await paySend(e, dan.accessToken, bob.handle, "doomed", dan.account);
    expect(sent.status).toBe(201);
    const messageId = sent.body.messageId as Hex;
    expect(await money(e, dan.accessToken)).toEqual({ balance: 10n * USDC - TOTAL, held: TOTAL });

    // Each time the Relayer has a transaction in the mempool, the vault is made to revert for one block.
    let lastNonce = -1;
    for (let i = 0; i < MAX_JOB_ATTEMPTS; i++) {
      const tx = await waitFor(`attempt ${i + 1}`, async () => {
        const t = (await status()).inFlight[0];
        return t && t.nonce > lastNonce ? t : null;
      });
      lastNonce = tx.nonce;
      await chain.rpc("anvil_setCode", [info.vault, "0x60006000fd"]); // PUSH1 0 PUSH1 0 REVERT
      await chain.mine(1);
      await chain.rpc("anvil_setCode", [info.vault, vaultCode]);
      const receipt = await chain.pub.getTransactionReceipt({ hash: tx.attempts[0].hash });
      expect(receipt.status).toBe("reverted");
    }
    const s = await waitFor("the failure reported", async () => {
      const x = await status();
      return x.reported >= 1 && x.failed === 0 ? x : null;
    });
    expect(s.queued).toBe(0);
    expect(s.inFlight).toEqual([]);
    await chain.rpc("evm_setAutomine", [true]);

    expect(await outboxEntry(dan.accessToken, messageId)).toMatchObject({
      status: "payment_failed",
      failure: "SettlementReverted",
      txHash: null,
    });
    await waitFor("the recipient told", async () => {
      const m = await call(e, "GET", `/v1/inbox/${messageId}`, { token: bob.accessToken });
      return m.body.status === "payment_failed";
    });
    expect(await money(e, dan.accessToken)).toEqual({ balance: 10n * USDC, held: 0n });
    expect(await money(e, bob.accessToken)).toEqual(bobBefore);
    const ledger = await call(e, "GET", "/v1/payments/ledger", { token: dan.accessToken });
    expect(ledger.body.entries[0]).toMatchObject({ kind: "refund", amount: `${TOTAL}`, ref: messageId });
    expect(await eventsFor(messageId)).toEqual([]);
    await expectConsistent();

    // The nonce it held was never used on chain: the payer's next payment takes it and is paid.
    const next = await paySend(e, dan.accessToken, bob.handle, "after the failure", dan.account);
    expect(next.status).toBe(201);
    const [paid] = await settled(next.body.messageId);
    expect(paid.eventName).toBe("MessagePaid");
    await confirmAndIndex();
    expect(await outboxEntry(dan.accessToken, next.body.messageId)).toMatchObject({ status: "paid" });
    expect(await money(e, dan.accessToken)).toEqual({ balance: 10n * USDC - TOTAL, held: 0n });
    await expectConsistent();
  });
});
