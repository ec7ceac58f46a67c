// The relayer on a real anvil (its own, started by test/fakes/global-setup.mjs):
// the settle queue's real consumer hands batches to the Relayer Durable Object,
// which puts them on chain; then the mempool misbehaves — a dropped transaction,
// a stuck one — and every payment is still paid exactly once, with one nonce per
// batch. The assertions read the chain (MessagePaid logs, vault balances).
import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { type Address, createWalletClient, decodeFunctionData, type Hex, http, parseTransaction } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { beforeAll, describe, expect, inject, it } from "vitest";
import type { Relayer, RelayerStatus } from "../durable-objects/relayer";
import app from "../worker/app";
import { vaultAbi } from "../worker/chain/abis";
import { relayerStub } from "../worker/chain/relayer-status";
import type { SettleJob } from "../worker/chain/settle-job";
import worker from "../worker/index";
import {
  address,
  balanceOf,
  deployWallet1271,
  fund,
  payerAccount,
  signedJob,
  type TestVault,
  vaultEvents,
  vaultOn,
  waitFor,
} from "./relayer-helpers";

const info = inject("chains").relayer;
const rpcUrl = info.rpcUrl;
const AMOUNT = 2_000_000n; // 2 USDC
const FEE = (AMOUNT * 250n) / 10_000n;

let v: TestVault;
let tagSeq = 0;

const relayer = () => relayerStub(env);
const status = (): Promise<RelayerStatus> => relayer().status();

/** `n` fresh payers (funded), each paying one of `recipients` once. */
async function jobsFor(n: number, recipients: Address[]): Promise<SettleJob[]> {
  const salt = `p${++tagSeq}`;
  const payers = Array.from({ length: n }, (_, i) => payerAccount(i, salt));
  await fund(
    v,
    payers.map((p) => p.address),
    10n * AMOUNT,
  );
  return Promise.all(
    payers.map((p, i) =>
      signedJob(v, p, {
        payer: p.address,
        recipient: recipients[i % recipients.length],
        amount: AMOUNT,
        nonce: 0n,
        tag: `${salt}-${i}`,
      }),
    ),
  );
}

/** The next block: where events of what follows start. */
async function nextBlock(): Promise<bigint> {
  return BigInt(await v.rpc<Hex>("eth_blockNumber")) + 1n;
}

/** Waits until the relayer has nothing in flight and nothing queued. */
function idle() {
  return waitFor("relayer idle", async () => {
    const s = await status();
    return s.inFlight.length === 0 && s.queued === 0 ? s : null;
  });
}

/** MessagePaid count per messageId since `from`. */
async function paidCounts(from: bigint): Promise<Map<Hex, number>> {
  const counts = new Map<Hex, number>();
  for (const e of await vaultEvents(v, from)) {
    if (e.eventName === "MessagePaid") counts.set(e.args.messageId, (counts.get(e.args.messageId) ?? 0) + 1);
  }
  return counts;
}

/** Every transaction the relayer ever signed, decoded from its stored raw bytes. */
async function signedTransactions() {
  return runInDurableObject(relayer(), async (_r: Relayer, state) =>
    state.storage.sql
      .exec<{ hash: string; nonce: number; raw: string }>("SELECT hash, nonce, raw FROM attempts")
      .toArray()
      .map((a) => ({ ...a, tx: parseTransaction(a.raw as Hex) })),
  );
}

beforeAll(async () => {
  v = await vaultOn(info);
  await relayer().configure({ rpcUrl, chainId: v.chainId, vault: v.vault, pollMs: 100, stuckMs: 60_000 });
});

describe("relayer", () => {
  it("settles a queue batch: EOA and ERC-1271 payers, one MessagePaid each, in a settleBatchPacked", async () => {
    const recipients = [address(1), address(2), address(3)];
    const jobs = await jobsFor(11, recipients);
    // A smart-account payer: its owner signs, the wallet approves through ERC-1271.
    const owner = payerAccount(0, "wallet-owner");
    const wallet = await deployWallet1271(v, owner.address);
    await fund(v, [wallet], 10n * AMOUNT);
    jobs.push(
      await signedJob(v, owner, { payer: wallet, recipient: recipients[0], amount: AMOUNT, nonce: 0n, tag: "1271" }),
    );
    const from = await nextBlock();
    const before = await Promise.all(recipients.map((r) => balanceOf(v, r)));

    const batch = createMessageBatch<SettleJob>(
      "settle",
      jobs.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await (worker.queue as ExportedHandlerQueueHandler<Env>)(batch as MessageBatch<unknown>, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.length).toBe(jobs.length);
    expect(result.retryMessages).toEqual([]);

    const s = await idle();
    const counts = await paidCounts(from);
    for (const job of jobs) expect(counts.get(job.payment.messageId)).toBe(1);
    const after = await Promise.all(recipients.map((r) => balanceOf(v, r)));
    expect(after[0] - before[0]).toBe(5n * AMOUNT); // payers 0, 3, 6, 9 and the wallet
    expect(after[1] - before[1]).toBe(4n * AMOUNT);
    expect(await balanceOf(v, wallet)).toBe(10n * AMOUNT - AMOUNT - FEE);

    // One transaction, through the packed entry point, and the status shows it mined.
    expect(s.recent[0].state).toBe("mined");
    expect(s.recent[0].payments).toBe(12);
    const tx = await v.deployer.getTransaction({ hash: s.recent[0].minedHash as Hex });
    expect(decodeFunctionData({ abi: vaultAbi, data: tx.input }).functionName).toBe("settleBatchPacked");
  });

  it("the queue consumer drops a malformed job, enqueues the rest, and retries all without a relayer key", async () => {
    const [job] = await jobsFor(1, [address(8)]);
    const from = await nextBlock();
    const bad = { ...job, payment: { ...job.payment, amount: "-1" } };
    const messages = [
      { id: "ok", timestamp: new Date(), attempts: 1, body: job },
      { id: "bad", timestamp: new Date(), attempts: 1, body: bad as SettleJob },
    ];
    const queue = worker.queue as ExportedHandlerQueueHandler<Env>;

    const keyless = createMessageBatch<SettleJob>("settle", messages);
    const ctx1 = createExecutionContext();
    await queue(keyless as MessageBatch<unknown>, { ...env, RELAYER_PRIVATE_KEY: undefined } as Env, ctx1);
    const r1 = await getQueueResult(keyless, ctx1);
    expect(r1.retryBatch.retry).toBe(true);
    expect(r1.explicitAcks).toEqual([]);

    const batch = createMessageBatch<SettleJob>("settle", messages);
    const ctx2 = createExecutionContext();
    await queue(batch as MessageBatch<unknown>, env, ctx2);
    const r2 = await getQueueResult(batch, ctx2);
    expect(r2.explicitAcks.sort()).toEqual(["bad", "ok"]);
    await idle();
    expect((await paidCounts(from)).get(job.payment.messageId)).toBe(1);
  });

  it("a payer whose nonce no longer fits 64 bits is settled through settleBatch", async () => {
    const payer = payerAccount(0, "big-nonce");
    await fund(v, [payer.address], 10n * AMOUNT);
    await v.rpc("anvil_setBalance", [payer.address, "0xde0b6b3a7640000"]);
    const big = (1n << 64n) + 5n;
    for (const step of [(1n << 64n) - 1n, big]) {
      const hash = await v.deployer.writeContract({
        account: payer,
        address: v.vault,
        abi: vaultAbi,
        functionName: "invalidateNonces",
        args: [step],
      } as never);
      await v.deployer.waitForTransactionReceipt({ hash });
    }
    const job = await signedJob(v, payer, {
      payer: payer.address,
      recipient: address(9),
      amount: AMOUNT,
      nonce: big,
      tag: "big-nonce",
    });
    const from = await nextBlock();
    await relayer().enqueue([job]);
    const s = await idle();
    expect((await paidCounts(from)).get(job.payment.messageId)).toBe(1);
    const tx = await v.deployer.getTransaction({ hash: s.recent[0].minedHash as Hex });
    expect(decodeFunctionData({ abi: vaultAbi, data: tx.input }).functionName).toBe("settleBatch");
  });

  it("a queue redelivery of a job still queued or in flight is not sent twice", async () => {
    const [job] = await jobsFor(1, [address(4)]);
    const from = await nextBlock();
    await v.rpc("evm_setAutomine", [false]);
    try {
      expect((await relayer().enqueue([job])).added).toBe(1);
      expect((await relayer().enqueue([job])).added).toBe(0); // queued
      await waitFor("broadcast", async () => (await status()).inFlight[0]);
      expect((await relayer().enqueue([job])).added).toBe(0); // in flight
    } finally {
      await v.rpc("evm_setAutomine", [true]);
    }
    await v.rpc("evm_mine");
    await idle();
    expect((await paidCounts(from)).get(job.payment.messageId)).toBe(1);
    expect(await vaultEvents(v, from)).toHaveLength(1); // no PaymentSkipped from a second submission
  });

  it("a payment skipped for arriving before its payer's earlier nonce settles when sent again", async () => {
    const payer = payerAccount(0, "in-order");
    await fund(v, [payer.address], 10n * AMOUNT);
    const [early, late] = await Promise.all(
      [0n, 1n].map((nonce) =>
        signedJob(v, payer, {
          payer: payer.address,
          recipient: address(11),
          amount: AMOUNT,
          nonce,
          tag: `order-${nonce}`,
        }),
      ),
    );
    const from = await nextBlock();
    await relayer().enqueue([late]);
    await idle();
    const skipped = (await vaultEvents(v, from)).filter((e) => e.eventName === "PaymentSkipped");
    expect(skipped).toHaveLength(1);
    await relayer().enqueue([early]);
    await idle();
    // The Account sends the skipped one again once the earlier one is paid: the relayer takes it.
    expect((await relayer().enqueue([late])).added).toBe(1);
    await idle();
    const counts = await paidCounts(from);
    expect(counts.get(early.payment.messageId)).toBe(1);
    expect(counts.get(late.payment.messageId)).toBe(1);
  });

  it("puts a payer's payments in nonce order within a batch, whatever order the queue delivered them in", async () => {
    const payer = payerAccount(0, "reordered");
    await fund(v, [payer.address], 10n * AMOUNT);
    const jobs = await Promise.all(
      [2n, 0n, 1n].map((nonce) =>
        signedJob(v, payer, {
          payer: payer.address,
          recipient: address(13),
          amount: AMOUNT,
          nonce,
          tag: `re-${nonce}`,
        }),
      ),
    );
    const from = await nextBlock();
    await relayer().enqueue(jobs);
    await idle();
    const events = await vaultEvents(v, from);
    expect(events.filter((e) => e.eventName === "PaymentSkipped")).toEqual([]);
    const counts = await paidCounts(from);
    for (const job of jobs) expect(counts.get(job.payment.messageId)).toBe(1);
  });

  it("re-sends a transaction dropped from the mempool; the payments are paid once", async () => {
    const jobs = await jobsFor(3, [address(5)]);
    await v.rpc("evm_setAutomine", [false]);
    try {
      const from = await nextBlock();
      await relayer().enqueue(jobs);
      const sent = await waitFor("first broadcast", async () => (await status()).inFlight[0]);
      const { hash } = sent.attempts[0];
      expect(await v.rpc("eth_getTransactionByHash", [hash])).not.toBeNull();

      await v.rpc("anvil_dropTransaction", [hash]);
      // The relayer notices (within pollMs: too soon to assert the gap) and broadcasts the same
      // signed bytes again; `broadcasts` only grows when the node no longer knew the hash.
      await waitFor("re-broadcast", async () => (await v.rpc("eth_getTransactionByHash", [hash])) !== null);
      const resent = (await status()).inFlight[0];
      expect(resent.nonce).toBe(sent.nonce);
      expect(resent.attempts).toHaveLength(1);
      expect(resent.attempts[0].broadcasts).toBeGreaterThanOrEqual(2);

      await v.rpc("evm_mine");
      const s = await idle();
      expect(s.recent.find((t) => t.nonce === sent.nonce)?.minedHash).toBe(hash);
      const counts = await paidCounts(from);
      for (const job of jobs) expect(counts.get(job.payment.messageId)).toBe(1);
      expect(await balanceOf(v, address(5))).toBeGreaterThanOrEqual(3n * AMOUNT);
    } finally {
      await v.rpc("evm_setAutomine", [true]);
    }
  });

  it("replaces a stuck transaction with a higher fee (same nonce, same batch); a later batch gets the next nonce", async () => {
    const first = await jobsFor(2, [address(6)]);
    const second = await jobsFor(2, [address(7)]);
    await relayer().configure({ rpcUrl, chainId: v.chainId, vault: v.vault, pollMs: 100, stuckMs: 1_000 });
    await v.rpc("evm_setAutomine", [false]);
    try {
      const from = await nextBlock();
      await relayer().enqueue(first);
      const stuck = await waitFor("first broadcast", async () => (await status()).inFlight[0]);
      await relayer().enqueue(second);
      const both = await waitFor("second transaction", async () => {
        const s = await status();
        return s.inFlight.length === 2 ? s.inFlight : null;
      });
      expect(both.map((t) => t.nonce)).toEqual([stuck.nonce, stuck.nonce + 1]);

      // Nothing is mined; after stuckMs the head of the line is re-signed with higher fees.
      const replaced = await waitFor("replacement", async () => {
        const head = (await status()).inFlight.find((t) => t.nonce === stuck.nonce);
        return head && head.attempts.length >= 2 ? head : null;
      });
      const [newest, original] = replaced.attempts;
      expect(BigInt(newest.maxFeePerGas)).toBeGreaterThan(BigInt(original.maxFeePerGas));
      expect(BigInt(newest.maxPriorityFeePerGas)).toBeGreaterThan(BigInt(original.maxPriorityFeePerGas));
      // The node holds the replacement for that nonce, not the original.
      expect(await v.rpc("eth_getTransactionByHash", [newest.hash])).not.toBeNull();
      expect(await v.rpc("eth_getTransactionByHash", [original.hash])).toBeNull();

      await v.rpc("evm_mine");
      await v.rpc("evm_mine");
      const s = await idle();
      const mined = s.recent.find((t) => t.nonce === stuck.nonce);
      expect(mined?.state).toBe("mined");
      expect(mined?.minedHash).toBe(replaced.attempts[0].hash);
      expect(await v.rpc("eth_getTransactionReceipt", [original.hash])).toBeNull();
      const counts = await paidCounts(from);
      for (const job of [...first, ...second]) expect(counts.get(job.payment.messageId)).toBe(1);
    } finally {
      await v.rpc("evm_setAutomine", [true]);
      await relayer().configure({ rpcUrl, chainId: v.chainId, vault: v.vault, pollMs: 100, stuckMs: 60_000 });
    }
  });

  it("a nonce taken by another use of the key is given up; its payments go out under the next nonce, paid once", async () => {
    const jobs = await jobsFor(2, [address(10)]);
    await relayer().configure({
      rpcUrl,
      chainId: v.chainId,
      vault: v.vault,
      pollMs: 100,
      stuckMs: 60_000,
      supersededAfterMs: 500,
    });
    await v.rpc("evm_setAutomine", [false]);
    try {
      const from = await nextBlock();
      await relayer().enqueue(jobs);
      const ours = await waitFor("first broadcast", async () => (await status()).inFlight[0]);
      // Someone else signs with the relayer key at the same nonce, paying more: that one is mined.
      const key = privateKeyToAccount(env.RELAYER_PRIVATE_KEY as Hex);
      const other = createWalletClient({ account: key, chain: foundry, transport: http(rpcUrl) });
      const fee = BigInt(ours.attempts[0].maxFeePerGas) * 3n;
      const foreign = await other.sendTransaction({
        to: key.address,
        value: 0n,
        nonce: ours.nonce,
        gas: 21_000n,
        maxFeePerGas: fee,
        maxPriorityFeePerGas: fee,
      });
      await v.rpc("evm_mine");
      expect(await v.rpc("eth_getTransactionReceipt", [foreign])).not.toBeNull();
      await v.rpc("evm_setAutomine", [true]);
      await v.rpc("evm_mine");

      const s = await idle();
      expect(s.recent.find((t) => t.nonce === ours.nonce)?.state).toBe("superseded");
      const settled = s.recent.find((t) => t.state === "mined" && t.nonce > ours.nonce);
      expect(settled?.payments).toBe(2);
      const counts = await paidCounts(from);
      for (const job of jobs) expect(counts.get(job.payment.messageId)).toBe(1);
    } finally {
      await v.rpc("evm_setAutomine", [true]);
      await relayer().configure({ rpcUrl, chainId: v.chainId, vault: v.vault, pollMs: 100, stuckMs: 60_000 });
    }
  });

  it("GET /v1/ops/relayer shows the relayer to admins; POST /v1/dev/settle queues jobs and refuses bad ones", async () => {
    const call = (method: string, path: string, init: RequestInit = {}) =>
      app.request(`http://127.0.0.1:8787${path}`, { method, ...init }, env);
    expect((await call("GET", "/v1/ops/relayer")).status).toBe(401);
    const res = await call("GET", "/v1/ops/relayer", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as RelayerStatus;
    expect(body.configured).toBe(true);
    expect(body.relayer).toBe(privateKeyToAccount(env.RELAYER_PRIVATE_KEY as Hex).address);
    expect(body.recent.length).toBeGreaterThan(0);

    const [job] = await jobsFor(1, [address(12)]);
    const from = await nextBlock();
    const post = (jobs: unknown) =>
      call("POST", "/v1/dev/settle", {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jobs }),
      });
    expect((await post([job])).status).toBe(202);
    expect((await post([{ ...job, channel: 300 }])).status).toBe(400);
    expect((await post([])).status).toBe(400);
    // Through the real local queue and its consumer to the chain.
    await waitFor("the queued job paid", async () => (await paidCounts(from)).get(job.payment.messageId) === 1);
    await idle();
  });

  it("never signed two transactions with the same nonce for different batches", async () => {
    const signed = await signedTransactions();
    expect(signed.length).toBeGreaterThan(4);
    const dataByNonce = new Map<number, string>();
    for (const { nonce, tx } of signed) {
      expect(tx.nonce).toBe(nonce);
      const data = dataByNonce.get(nonce);
      if (data === undefined) dataByNonce.set(nonce, tx.data as string);
      else expect(tx.data).toBe(data);
    }
    // And on chain: each relayer nonce was mined once.
    const s = await status();
    const nonces = s.recent.filter((t) => t.state === "mined").map((t) => t.nonce);
    expect(new Set(nonces).size).toBe(nonces.length);
    const count = await v.rpc<Hex>("eth_getTransactionCount", [s.relayer, "latest"]);
    expect(Number(count)).toBe(s.nextNonce);
  });
});
