#!/usr/bin/env node
// `npm run bench:chain`: settlement on a real local chain, measured in one run.
//
//   1. Gas per message read from real receipts: settleBatch (ABI-encoded) vs
//      settleBatchPacked for batches of 1, 10 and 50 (fresh payers, recipients that
//      already hold a balance, 10 at most — the forge gas test's shape).
//   2. The relayer end to end with 1 s blocks: signed payments put on the `settle`
//      queue of a disposable `wrangler dev` (POST /v1/dev/settle), consumed into the
//      Relayer Durable Object, sent as settleBatchPacked transactions; every
//      MessagePaid is watched on chain. Prints enqueue → paid latency p50/p99 at a
//      steady rate, and sustained paid payments per second under a burst.
//   3. When the build has chain mode's send path (GET /v1/payments/vault answers):
//      real sends through the HTTP API — payment intent, wallet signature,
//      POST /v1/messages → accepted → relayer → MessagePaid → the cron indexer
//      (CONFIRMATIONS blocks) → `paid` in the sender's outbox. Prints send → paid
//      latency p50/p99 at a steady rate and the paid rate of senders sending flat out.
//      It runs before 2, with the indexer stopped after it (phase 2's hundreds of payments
//      between addresses nobody linked would otherwise all be folded by the indexer at once).
//
// It starts its own anvil (ANVIL_PORT, default a free port) and wrangler dev
// (BENCH_PORT, default 8826) with a throwaway state directory; nothing else is
// touched. Knobs: BENCH_CHAIN_RATE (payments/s for the latency phase, 20),
// BENCH_CHAIN_SECONDS (10), BENCH_CHAIN_BURST (payments in the burst, 600),
// BENCH_CHAIN_SEND_RATE (API sends/s for the latency phase, 5), BENCH_CHAIN_SENDERS (10),
// BENCH_INDEXER_EVERY_MS (pause between scheduled() runs, 500).
import { spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import {
  concatHex,
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  http,
  keccak256,
  numberToHex,
  parseEventLogs,
  parseSignature,
  serializeCompactSignature,
  signatureToCompactSignature,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { call as callOk, ensureBuilt, request } from "./bench-common.mjs";
import { rpc } from "./chain-up.mjs";
import { freePort } from "./free-port.mjs";
import { driveIndexer, SHORT_RUN_VARS } from "./indexer-driver.mjs";
import { loadTs } from "./load-ts.mjs";
import { startWranglerDev } from "./wrangler-dev.mjs";

const contracts = JSON.parse(readFileSync(new URL("../test/fixtures/vault-contracts.json", import.meta.url), "utf8"));
const vaultAbi = contracts.PayInboxVault.abi;
const usdcAbi = contracts.MockUSDC.abi;

const BENCH_PORT = process.env.BENCH_PORT ?? "8826";
const RATE = Number(process.env.BENCH_CHAIN_RATE ?? 20);
const SECONDS = Number(process.env.BENCH_CHAIN_SECONDS ?? 10);
const BURST = Number(process.env.BENCH_CHAIN_BURST ?? 600);
const AMOUNT = 2_000_000n;
const SEND_RATE = Number(process.env.BENCH_CHAIN_SEND_RATE ?? 5);
const SENDERS = Number(process.env.BENCH_CHAIN_SENDERS ?? 10);
const CONFIRMATIONS = process.env.CONFIRMATIONS ?? "2";
/** Pause between the bench's scheduled() runs (a deployed run polls every INDEXER_POLL_MS, 2 s by default). */
const INDEXER_EVERY_MS = Number(process.env.BENCH_INDEXER_EVERY_MS ?? 500);

// anvil's public dev keys: #0 deploys and funds, #1 is the relayer.
const DEPLOYER = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const RELAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const RELAYER = privateKeyToAccount(RELAYER_KEY);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startAnvil() {
  const port = Number(process.env.ANVIL_PORT ?? (await freePort()));
  const url = `http://127.0.0.1:${port}`;
  const child = spawn("node_modules/.bin/anvil", ["--host", "127.0.0.1", "--port", String(port), "--silent"], {
    stdio: "ignore",
  });
  for (let i = 0; i < 600; i++) {
    try {
      await rpc(url, "eth_chainId");
      return { url, stop: () => child.kill("SIGTERM") };
    } catch {
      await sleep(100);
    }
  }
  child.kill("SIGTERM");
  throw new Error(`anvil did not start on ${url}`);
}

/** A disposable `wrangler dev` on BENCH_PORT with `--test-scheduled` (the indexer driver's route). */
async function startWrangler(vars) {
  await ensureBuilt();
  return startWranglerDev({
    port: BENCH_PORT,
    vars,
    args: ["--test-scheduled"],
    // BENCH_LOG=file: wrangler's output there (stderr in file.err), for a run that goes wrong.
    stdio: process.env.BENCH_LOG
      ? ["ignore", openSync(process.env.BENCH_LOG, "w"), openSync(`${process.env.BENCH_LOG}.err`, "w")]
      : "ignore",
    prefix: "paid-inbox-bench-chain-",
  });
}

// The Worker's EIP-712 Payment type, the one its intents carry.
const { PAYMENT_TYPES: types } = await loadTs("worker/domain/payment-intent.ts");

const payerAccount = (tag) => privateKeyToAccount(keccak256(toHex(`bench-payer:${tag}`)));
const recipientAddress = (i) => privateKeyToAccount(keccak256(toHex(`bench-recipient:${i}`))).address;

async function main() {
  const anvil = await startAnvil();
  let server = null;
  try {
    const chain = { ...foundry, rpcUrls: { default: { http: [anvil.url] } } };
    const pub = createPublicClient({ chain, transport: http(anvil.url) });
    const deployer = createWalletClient({ account: DEPLOYER, chain, transport: http(anvil.url) });
    const relayer = createWalletClient({ account: RELAYER, chain, transport: http(anvil.url) });
    const mined = async (hash) => {
      const r = await pub.waitForTransactionReceipt({ hash, pollingInterval: 50 });
      if (r.status !== "success") throw new Error(`transaction ${hash} reverted`);
      return r;
    };

    // ── deploy and fund (automine: instant) ──
    const deploy = async (c, args) =>
      (await mined(await deployer.deployContract({ abi: c.abi, bytecode: c.bytecode, args }))).contractAddress;
    const token = await deploy(contracts.MockUSDC, []);
    const vault = await deploy(contracts.PayInboxVault, [token, DEPLOYER.address, DEPLOYER.address, 250n]);
    await mined(
      await deployer.writeContract({
        address: token,
        abi: usdcAbi,
        functionName: "mint",
        args: [DEPLOYER.address, 10n ** 18n],
      }),
    );
    await mined(
      await deployer.writeContract({
        address: token,
        abi: usdcAbi,
        functionName: "approve",
        args: [vault, 2n ** 255n],
      }),
    );
    let nonce = await pub.getTransactionCount({ address: DEPLOYER.address });
    /** depositFor each user, pipelined (explicit nonces), then waits for the last one. */
    const fund = async (users) => {
      let last;
      for (let i = 0; i < users.length; i += 50) {
        const hashes = await Promise.all(
          users.slice(i, i + 50).map((u) =>
            deployer.writeContract({
              address: vault,
              abi: vaultAbi,
              functionName: "depositFor",
              args: [u, 10n * AMOUNT],
              nonce: nonce++,
              gas: 100_000n,
            }),
          ),
        );
        last = hashes.at(-1);
      }
      if (last) await mined(last);
    };
    const recipients = Array.from({ length: 10 }, (_, i) => recipientAddress(i));
    await fund(recipients); // recipients already hold a balance, as in the forge gas test

    const domain = { name: "PayInboxVault", version: "1", chainId: chain.id, verifyingContract: vault };
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 7200);
    const sign = async (account, i, tag) => {
      const payment = {
        payer: account.address,
        recipient: recipients[i % recipients.length],
        messageId: keccak256(toHex(`bench-message:${tag}`)),
        contentHash: keccak256(toHex(`bench-content:${tag}`)),
        amount: AMOUNT,
        nonce: 0n,
        deadline,
      };
      const signature = await account.signTypedData({ domain, types, primaryType: "Payment", message: payment });
      return { payment, signature };
    };

    // ── 1. gas per message from receipts ──
    const gasRows = [];
    for (const n of [1, 10, 50]) {
      const row = { batch: n };
      for (const method of ["settleBatch", "settleBatchPacked"]) {
        const payers = Array.from({ length: n }, (_, i) => payerAccount(`${method}-${n}-${i}`));
        await fund(payers.map((p) => p.address));
        const signed = await Promise.all(payers.map((p, i) => sign(p, i, `${method}-${n}-${i}`)));
        const data =
          method === "settleBatch"
            ? encodeFunctionData({
                abi: vaultAbi,
                functionName: "settleBatch",
                args: [signed.map((s) => ({ payment: s.payment, channel: 1, signature: s.signature }))],
              })
            : encodeFunctionData({
                abi: vaultAbi,
                functionName: "settleBatchPacked",
                args: [concatHex(signed.map(packedEntry))],
              });
        const receipt = await mined(await relayer.sendTransaction({ to: vault, data, gas: 5_000_000n }));
        const paid = parseEventLogs({ abi: vaultAbi, logs: receipt.logs, eventName: "MessagePaid" }).length;
        if (paid !== n) throw new Error(`${method} of ${n} paid ${paid}`);
        row[method] = Number(receipt.gasUsed) / n;
      }
      gasRows.push(row);
    }

    // ── 2. the relayer, through the queue, with 1 s blocks ──
    const latencyPayers = Array.from({ length: RATE * SECONDS }, (_, i) => payerAccount(`steady-${i}`));
    const burstPayers = Array.from({ length: BURST }, (_, i) => payerAccount(`burst-${i}`));
    await fund([...latencyPayers, ...burstPayers].map((p) => p.address));
    const steadyJobs = await Promise.all(latencyPayers.map((p, i) => sign(p, i, `steady-${i}`)));
    const burstJobs = await Promise.all(burstPayers.map((p, i) => sign(p, i, `burst-${i}`)));
    server = await startWrangler({
      LEDGER_MODE: "chain",
      CHAIN_RPC_URL: anvil.url,
      CHAIN_ID: String(chain.id),
      VAULT_ADDRESS: vault,
      TOKEN_ADDRESS: token,
      // The full path's events all come later: the indexer need not fold the hundreds of
      // phase-1/2 funding deposits (addresses nobody linked) before it sees them.
      CHAIN_START_BLOCK: String(await pub.getBlockNumber()),
      CONFIRMATIONS,
      RELAYER_PRIVATE_KEY: RELAYER_KEY,
      // Each scheduled() run catches up and returns (see the cron driver below).
      ...SHORT_RUN_VARS,
    });
    const api = apiClient(server.base);
    // Chain mode's send path (payment intents, the cron indexer) — absent from builds without it.
    const fullPath = (await fetch(`${server.base}/v1/payments/vault`)).status === 200;
    let cron = null;
    let senders = [];
    if (fullPath) {
      // The cron indexer: short catch-up runs every INDEXER_EVERY_MS (scripts/indexer-driver.mjs).
      cron = driveIndexer(server.base, { everyMs: INDEXER_EVERY_MS });
    }
    // Users signed in with their wallets; senders deposit 1,000 USDC each from their own wallet.
    let fullPathError = null;
    if (fullPath) {
      try {
        const users = [];
        for (let i = 0; i < SENDERS + 5; i++) users.push(await api.signUp(payerAccount(`user-${i}`), `bench${i}`));
        senders = users.slice(0, SENDERS);
        const recipientsApi = users.slice(SENDERS);
        let n = 0;
        for (const s of senders) {
          s.to = recipientsApi[n++ % recipientsApi.length].handle;
          const a = s.account.address;
          await rpc(anvil.url, "anvil_setBalance", [a, "0x56BC75E2D63100000"]);
          await mined(
            await deployer.writeContract({
              address: token,
              abi: usdcAbi,
              functionName: "mint",
              args: [a, 1000n * 10n ** 6n],
              nonce: nonce++,
            }),
          );
          const w = createWalletClient({ account: s.account, chain, transport: http(anvil.url) });
          await mined(
            await w.writeContract({
              address: token,
              abi: usdcAbi,
              functionName: "approve",
              args: [vault, 1000n * 10n ** 6n],
            }),
          );
          await mined(
            await w.writeContract({
              address: vault,
              abi: vaultAbi,
              functionName: "deposit",
              args: [1000n * 10n ** 6n],
            }),
          );
        }
      } catch (err) {
        fullPathError = err.message;
      }
    }
    const enqueue = async (jobs) => {
      const res = await fetch(`${server.base}/v1/dev/settle`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          jobs: jobs.map((j) => ({
            payment: {
              ...j.payment,
              amount: j.payment.amount.toString(),
              nonce: j.payment.nonce.toString(),
              deadline: j.payment.deadline.toString(),
            },
            signature: j.signature,
            channel: 1,
          })),
        }),
      });
      if (res.status !== 202) throw new Error(`POST /v1/dev/settle → ${res.status} ${await res.text()}`);
    };

    await rpc(anvil.url, "evm_setAutomine", [false]);
    await rpc(anvil.url, "evm_setIntervalMining", [1]);

    // 3 runs first (printed last): it needs the indexer, which then stops, so it never has to fold
    // the hundreds of phase-2 payments between addresses nobody linked (see the cron note above).
    let full = null;
    let fullError = null;
    if (fullPath) {
      try {
        if (fullPathError) throw new Error(`setup: ${fullPathError}`);
        full = await fullPathPhase(api, senders);
      } catch (err) {
        fullError = err.message;
      } finally {
        await cron.stop();
      }
    }

    // Watches MessagePaid logs; records when each messageId was first seen.
    const seen = new Map();
    const phaseStart = BigInt(await rpc(anvil.url, "eth_blockNumber"));
    let from = phaseStart;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const to = BigInt(await rpc(anvil.url, "eth_blockNumber"));
        if (to >= from) {
          const logs = await pub.getLogs({ address: vault, fromBlock: from, toBlock: to });
          const now = Date.now();
          for (const e of parseEventLogs({ abi: vaultAbi, logs, eventName: "MessagePaid" })) {
            if (!seen.has(e.args.messageId)) seen.set(e.args.messageId, now);
          }
          from = to + 1n;
        }
        await sleep(100);
      }
    })();
    const waitPaid = async (jobs, ms) => {
      const until = Date.now() + ms;
      while (jobs.some((j) => !seen.has(j.payment.messageId)) && Date.now() < until) await sleep(100);
      return jobs.filter((j) => seen.has(j.payment.messageId)).length;
    };

    // Warm-up: one payment through the whole path (wrangler, queue, Durable Object, first block).
    const warm = await sign(payerAccount("warm"), 0, "warm");
    await fund([warm.payment.payer]);
    await enqueue([warm]);
    await waitPaid([warm], 60_000);

    // Steady rate: RATE payments a second, one request each, for SECONDS.
    const sentAt = new Map();
    const t0 = Date.now();
    for (let i = 0; i < steadyJobs.length; i++) {
      const due = t0 + (i * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      sentAt.set(steadyJobs[i].payment.messageId, Date.now());
      await enqueue([steadyJobs[i]]);
    }
    const steadyPaid = await waitPaid(steadyJobs, 60_000);
    const latencies = steadyJobs
      .filter((j) => seen.has(j.payment.messageId))
      .map((j) => seen.get(j.payment.messageId) - sentAt.get(j.payment.messageId))
      .sort((a, b) => a - b);
    const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];

    // Burst: everything at once (50 per request); sustained rate = paid / (last paid − first sent).
    const burstStart = Date.now();
    await Promise.all(
      Array.from({ length: Math.ceil(BURST / 50) }, (_, k) => enqueue(burstJobs.slice(k * 50, k * 50 + 50))),
    );
    const burstPaid = await waitPaid(burstJobs, 120_000);
    const lastPaid = Math.max(
      ...burstJobs.filter((j) => seen.has(j.payment.messageId)).map((j) => seen.get(j.payment.messageId)),
    );
    watching = false;
    await watcher;

    // The relayer's own transactions in this phase: gas per payment as sent by the relayer.
    const blocks = Number(await rpc(anvil.url, "eth_blockNumber"));
    let relayerGas = 0n;
    let relayerPayments = 0;
    let relayerTxs = 0;
    for (let b = blocks; b > Number(phaseStart); b--) {
      const block = await pub.getBlock({ blockNumber: BigInt(b), includeTransactions: true });
      for (const tx of block.transactions) {
        if (tx.from.toLowerCase() !== RELAYER.address.toLowerCase()) continue;
        const r = await pub.getTransactionReceipt({ hash: tx.hash });
        relayerGas += r.gasUsed;
        relayerTxs++;
        relayerPayments += parseEventLogs({ abi: vaultAbi, logs: r.logs, eventName: "MessagePaid" }).length;
      }
    }

    console.log("\nGas per message, from anvil receipts (fresh payers, ≤ 10 recipients holding a balance):");
    console.table(
      gasRows.map((r) => ({
        batch: r.batch,
        "settleBatch gas/msg": Math.round(r.settleBatch),
        "settleBatchPacked gas/msg": Math.round(r.settleBatchPacked),
        "packed / abi": (r.settleBatchPacked / r.settleBatch).toFixed(3),
      })),
    );
    console.log(
      `Relayer (queue → Relayer DO → settleBatchPacked, 1 s blocks): ${relayerTxs} transactions, ` +
        `${relayerPayments} payments, ${Math.round(Number(relayerGas) / Math.max(1, relayerPayments))} gas/payment`,
    );
    console.log(
      `Steady ${RATE}/s for ${SECONDS}s: ${steadyPaid}/${steadyJobs.length} paid; enqueue → MessagePaid seen: ` +
        `p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${latencies.at(-1)} ms`,
    );
    const sustained = burstPaid / ((lastPaid - burstStart) / 1000);
    console.log(
      `Burst of ${BURST}: ${burstPaid} paid in ${((lastPaid - burstStart) / 1000).toFixed(1)} s → ${sustained.toFixed(1)} paid payments/s sustained`,
    );
    const g50 = gasRows.find((r) => r.batch === 50);
    console.log(
      `ratio: settleBatchPacked gas/msg at 50 = ${Math.round(g50.settleBatchPacked)} (target ≤ 18,000; settleBatch ${Math.round(g50.settleBatch)}, ` +
        `${(g50.settleBatchPacked / g50.settleBatch).toFixed(3)}×); paid/s sustained = ${sustained.toFixed(1)}; ` +
        `latency p99/p50 = ${(pct(99) / pct(50)).toFixed(2)}`,
    );
    if (burstPaid < BURST || steadyPaid < steadyJobs.length) process.exitCode = 1;
    if (!fullPath) {
      console.log("Full path (HTTP sends): skipped — this build has no chain-mode send path (GET /v1/payments/vault).");
      return;
    }
    if (fullError) {
      console.log(`Full path (HTTP sends): failed — ${fullError}`);
      process.exitCode = 1;
      return;
    }
    console.log(
      `Full path (HTTP send with a wallet signature → accepted → relayer → indexer, CONFIRMATIONS=${CONFIRMATIONS}): ` +
        `${full.steady.paid}/${full.steady.sent} paid at ${SEND_RATE}/s; send → paid p50 ${full.steady.p50} ms, ` +
        `p99 ${full.steady.p99} ms (send → accepted p50 ${full.steady.acceptedP50} ms)`,
    );
    console.log(
      `Full path flat out (${SENDERS} senders, ${SECONDS}s): ${full.flat.accepted} accepted, ${full.flat.paid} paid → ` +
        `${full.flat.paidPerSecond.toFixed(1)} paid sends/s sustained`,
    );
    console.log(
      `ratio: send → paid p50 = ${full.steady.p50} ms, p99 = ${full.steady.p99} ms; paid sends/s = ${full.flat.paidPerSecond.toFixed(1)}`,
    );
    if (full.steady.paid < full.steady.sent || full.flat.paid < full.flat.accepted) process.exitCode = 1;
  } finally {
    await server?.stop();
    anvil.stop();
  }
}

/** JSON calls to the app (SIWE sign-up, intents, sends, outbox). */
function apiClient(base) {
  const call = (method, path, opts) => request(base, method, path, opts);
  const ok = (method, path, opts) => callOk(base, method, path, opts);
  return {
    call,
    ok,
    async signUp(account, prefix) {
      const { message } = await ok("POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
      const s = await ok("POST", "/v1/auth/siwe/verify", {
        body: { message, signature: await account.signMessage({ message }) },
      });
      const handle = `${prefix}_${Date.now().toString(36)}`.slice(0, 30);
      await ok("PUT", "/v1/me/profile", { token: s.accessToken, body: { handle } });
      return { account, token: s.accessToken, handle };
    },
  };
}

let sendSeq = 0;
/** One paid send: intent, wallet signature, POST /v1/messages. Answers the messageId once accepted. */
async function paidSend(api, s) {
  const key = `bench-${Date.now()}-${sendSeq++}`;
  const headers = { "idempotency-key": key };
  const body = `bench message ${key}`;
  const intent = await api.ok("POST", "/v1/payments/intents", { token: s.token, headers, body: { to: s.to, body } });
  const t = intent.typedData;
  const m = t.message;
  const { EIP712Domain: _, ...types } = t.types;
  const signature = await s.account.signTypedData({
    domain: t.domain,
    types,
    primaryType: t.primaryType,
    message: { ...m, amount: BigInt(m.amount), nonce: BigInt(m.nonce), deadline: BigInt(m.deadline) },
  });
  const sent = await api.ok("POST", "/v1/messages", {
    token: s.token,
    headers,
    body: { to: s.to, body, payment: { message: m, signature } },
  });
  if (sent.status !== "accepted") throw new Error(`send answered ${sent.status}`);
  return sent.messageId;
}

/** Polls each sender's outbox; records when each message first shows `paid`. */
function outboxWatcher(api, senders) {
  const paidAt = new Map();
  let on = true;
  const done = Promise.all(
    senders.map(async (s) => {
      while (on) {
        const r = await api.call("GET", "/v1/outbox?limit=100", { token: s.token });
        const now = Date.now();
        for (const m of r.body?.messages ?? [])
          if (m.status === "paid" && !paidAt.has(m.messageId)) paidAt.set(m.messageId, now);
        await sleep(250);
      }
    }),
  );
  return {
    paidAt,
    async stop() {
      on = false;
      await done;
    },
  };
}

async function waitAll(ids, paidAt, ms) {
  const until = Date.now() + ms;
  while (ids.some((id) => !paidAt.has(id)) && Date.now() < until) await sleep(200);
  return ids.filter((id) => paidAt.has(id)).length;
}

/** Real sends through the HTTP API, paid through the relayer and the indexer. */
async function fullPathPhase(api, senders) {
  // Deposits credited by the indexer after CONFIRMATIONS blocks.
  for (const s of senders) {
    for (let i = 0; ; i++) {
      const me = await api.ok("GET", "/v1/me", { token: s.token });
      if (BigInt(me.balance) > 0n) break;
      if (i > 240) throw new Error("deposits were not credited within 60 s");
      await sleep(250);
    }
  }
  const watcher = outboxWatcher(api, senders);
  // Steady: SEND_RATE sends a second, round-robin over the senders (each sender's sends in order).
  const steady = [];
  const queues = senders.map(() => Promise.resolve());
  const t0 = Date.now();
  for (let i = 0; i < SEND_RATE * SECONDS; i++) {
    const due = t0 + (i * 1000) / SEND_RATE;
    if (due > Date.now()) await sleep(due - Date.now());
    const k = i % senders.length;
    const started = Date.now();
    const entry = { started, accepted: 0, id: null };
    steady.push(entry);
    queues[k] = queues[k].then(async () => {
      entry.id = await paidSend(api, senders[k]);
      entry.accepted = Date.now();
    });
  }
  await Promise.all(queues);
  const steadyIds = steady.map((e) => e.id);
  const steadyPaid = await waitAll(steadyIds, watcher.paidAt, 120_000);
  const lat = steady
    .filter((e) => watcher.paidAt.has(e.id))
    .map((e) => watcher.paidAt.get(e.id) - e.started)
    .sort((a, b) => a - b);
  const acc = steady.map((e) => e.accepted - e.started).sort((a, b) => a - b);
  const at = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

  // Flat out: every sender sends back to back for SECONDS.
  const flatIds = [];
  const flatStart = Date.now();
  await Promise.all(
    senders.map(async (s) => {
      while (Date.now() - flatStart < SECONDS * 1000) flatIds.push(await paidSend(api, s));
    }),
  );
  const flatPaid = await waitAll(flatIds, watcher.paidAt, 180_000);
  const lastPaid = Math.max(...flatIds.filter((id) => watcher.paidAt.has(id)).map((id) => watcher.paidAt.get(id)));
  await watcher.stop();
  return {
    steady: { sent: steady.length, paid: steadyPaid, p50: at(lat, 50), p99: at(lat, 99), acceptedP50: at(acc, 50) },
    flat: { accepted: flatIds.length, paid: flatPaid, paidPerSecond: flatPaid / ((lastPaid - flatStart) / 1000) },
  };
}

/** A settleBatchPacked entry with the EIP-2098 compact form of an EOA's signature. */
function packedEntry({ payment: p, signature }) {
  return concatHex([
    p.payer,
    p.recipient,
    p.messageId,
    p.contentHash,
    numberToHex(p.amount, { size: 16 }),
    numberToHex(p.nonce, { size: 8 }),
    numberToHex(p.deadline, { size: 5 }),
    numberToHex(1, { size: 1 }),
    numberToHex(0, { size: 2 }),
    serializeCompactSignature(signatureToCompactSignature(parseSignature(signature))),
  ]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
