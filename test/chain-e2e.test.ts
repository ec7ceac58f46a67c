// Chain mode end to end on a real anvil, through the HTTP API and the real cron
// handler: deposit → credited after CONFIRMATIONS → send signed by the wallet →
// accepted → settled on chain → paid with the real txHash → recipient credited →
// withdraw on chain → reflected. Also with an ERC-1271 smart-account payer.
// The relayer's part (SettleJob → settleBatch) is played by the test with viem;
// test/chain-relayer.test.ts runs the path through the real queue and Relayer.
import { env } from "cloudflare:test";
import { type Address, getAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { signAccessToken } from "../worker/auth/sessions";
import { chainConfig } from "../worker/chain/config";
import { chainClient, indexOnce, readCheckpoint, rewindTo } from "../worker/chain/indexer";
import {
  CONFIRMATIONS,
  call,
  chainEnv,
  chainTools,
  confirmAndIndex as confirmAndIndexWith,
  expectConsistent,
  jobsOf,
  money,
  openJobs,
  paySend,
  runCron,
} from "./chain-helpers";
import walletFixture from "./fixtures/erc1271-wallet.json";
import { signUp } from "./helpers";

const info = inject("chains").e2e;
const e = chainEnv(info);
const chain = chainTools(info);
const USDC = 1_000_000n;

const confirmAndIndex = () => confirmAndIndexWith(e, chain);

describe("chain mode end to end (EOA payer)", () => {
  let alice: Awaited<ReturnType<typeof signUp>>;
  let bob: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([signUp("alice"), signUp("bob")]);
    await chain.fund(alice.account.address, 100n * USDC);
    await chain.fund(bob.account.address, 0n);
  });

  it("credits a deposit once, only after CONFIRMATIONS blocks, with ref txHash:logIndex", async () => {
    const receipt = await chain.deposit(alice.account, 50n * USDC);
    await runCron(e);
    expect((await money(e, alice.accessToken)).balance).toBe(0n); // not confirmed yet
    await chain.mine(CONFIRMATIONS - 1);
    await runCron(e);
    expect((await money(e, alice.accessToken)).balance).toBe(0n);
    await confirmAndIndex();
    await runCron(e); // a second run applies nothing twice
    expect(await money(e, alice.accessToken)).toEqual({ balance: 50n * USDC, held: 0n });
    const ledger = await call(e, "GET", "/v1/payments/ledger", { token: alice.accessToken });
    const log = receipt.logs.find((l) => getAddress(l.address) === getAddress(info.vault));
    expect(ledger.body.entries).toEqual([
      expect.objectContaining({
        kind: "deposit",
        amount: `${50n * USDC}`,
        ref: `${receipt.transactionHash}:${log?.logIndex}`,
      }),
    ]);
    const vault = await call(e, "GET", "/v1/payments/vault");
    expect(vault.body).toEqual({
      chainId: 31337,
      vault: getAddress(info.vault),
      token: getAddress(info.token),
      confirmations: CONFIRMATIONS,
    });
    const topup = await call(e, "POST", "/v1/payments/topup", { token: alice.accessToken, body: { amount: "1" } });
    expect(topup.status).toBe(409);
    expect(topup.body).toMatchObject({ error: "use_onchain_deposit", vault: info.vault, chainId: 31337 });
  });

  it("pays a message by signature: accepted → paid with the real txHash, recipient credited", async () => {
    const sent = await paySend(e, alice.accessToken, bob.handle, "hello on chain", alice.account);
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ status: "accepted", price: "1000000", fee: "25000", total: "1025000" });
    const messageId = sent.body.messageId;
    expect(await money(e, alice.accessToken)).toEqual({ balance: 50n * USDC - 1_025_000n, held: 1_025_000n });
    expect(await money(e, bob.accessToken)).toEqual({ balance: 0n, held: 0n });
    const inbox = await call(e, "GET", `/v1/inbox/${messageId}`, { token: bob.accessToken });
    expect(inbox.body).toMatchObject({ status: "accepted", txHash: null });

    const jobs = await jobsOf(alice.user.id, 1);
    expect(jobs[0].payment).toMatchObject({ payer: alice.account.address, recipient: bob.account.address, messageId });
    const receipt = await chain.settle(jobs);
    expect(chain.paidEvents(receipt)).toHaveLength(1);
    await runCron(e);
    // Not confirmed yet: still accepted.
    expect((await call(e, "GET", `/v1/inbox/${messageId}`, { token: bob.accessToken })).body.status).toBe("accepted");
    await confirmAndIndex();

    const paid = await call(e, "GET", `/v1/inbox/${messageId}`, { token: bob.accessToken });
    expect(paid.body).toMatchObject({ status: "paid", txHash: receipt.transactionHash });
    const out = await call(e, "GET", "/v1/outbox", { token: alice.accessToken });
    expect(out.body.messages[0]).toMatchObject({ messageId, status: "paid", txHash: receipt.transactionHash });
    expect(await money(e, alice.accessToken)).toEqual({ balance: 50n * USDC - 1_025_000n, held: 0n });
    expect(await money(e, bob.accessToken)).toEqual({ balance: USDC, held: 0n });
    expect(await chain.vaultBalance(alice.account.address)).toBe(50n * USDC - 1_025_000n);
    expect(await chain.vaultBalance(bob.account.address)).toBe(USDC);
  });

  it("withdraws on chain: the API points at the vault, the indexed Withdrawn is the ledger entry", async () => {
    const api = await call(e, "POST", "/v1/payments/withdraw", { token: bob.accessToken, body: { amount: "1" } });
    expect(api.status).toBe(409);
    expect(api.body).toMatchObject({ error: "use_onchain_withdraw", vault: info.vault, available: `${USDC}` });
    const receipt = await chain.withdraw(bob.account, 600_000n);
    await confirmAndIndex();
    expect(await money(e, bob.accessToken)).toEqual({ balance: 400_000n, held: 0n });
    const ledger = await call(e, "GET", "/v1/payments/ledger", { token: bob.accessToken });
    expect(ledger.body.entries[0]).toMatchObject({ kind: "withdraw", amount: "600000", balanceAfter: "400000" });
    expect(ledger.body.entries[0].ref.startsWith(receipt.transactionHash)).toBe(true);
    await expectConsistent(chain, [
      { id: alice.user.id, address: alice.account.address },
      { id: bob.user.id, address: bob.account.address },
    ]);
  });

  it("two tabs paying at once both go through: the second re-signs the fresh intent it is handed", async () => {
    const [a, b] = await Promise.all([
      call(e, "POST", "/v1/payments/intents", { token: alice.accessToken, body: { to: bob.handle, body: "tab A" } }),
      call(e, "POST", "/v1/payments/intents", { token: alice.accessToken, body: { to: bob.handle, body: "tab B" } }),
    ]);
    expect(a.body.typedData.message.nonce).toBe(b.body.typedData.message.nonce); // nothing is reserved
    const sign = async (t: any) =>
      alice.account.signTypedData({
        ...t,
        message: {
          ...t.message,
          amount: BigInt(t.message.amount),
          nonce: BigInt(t.message.nonce),
          deadline: BigInt(t.message.deadline),
        },
      });
    const send = async (body: string, t: any) =>
      call(e, "POST", "/v1/messages", {
        token: alice.accessToken,
        body: { to: bob.handle, body, payment: { message: t.message, signature: await sign(t) } },
      });
    const first = await send("tab A", a.body.typedData);
    expect(first.status).toBe(201);
    const second = await send("tab B", b.body.typedData);
    expect(second.status).toBe(409);
    expect(second.body.error).toBe("intent_stale");
    const fresh = second.body.intent.typedData;
    expect(BigInt(fresh.message.nonce)).toBe(BigInt(a.body.typedData.message.nonce) + 1n);
    expect(fresh.message.messageId).toBe(b.body.messageId);
    const retried = await send("tab B", fresh);
    expect(retried.status).toBe(201);

    const receipt = await chain.settle(await jobsOf(alice.user.id, 2));
    expect(chain.paidEvents(receipt)).toHaveLength(2);
    await confirmAndIndex();
    const out = await call(e, "GET", "/v1/outbox", { token: alice.accessToken });
    expect(out.body.messages.slice(0, 2).map((m: any) => m.status)).toEqual(["paid", "paid"]);
    expect((await money(e, alice.accessToken)).held).toBe(0n);
  });

  it("an abandoned intent blocks nothing: the next message settles", async () => {
    const abandoned = await call(e, "POST", "/v1/payments/intents", {
      token: alice.accessToken,
      body: { to: bob.handle, body: "never sent" },
    });
    expect(abandoned.status).toBe(200);
    const sent = await paySend(e, alice.accessToken, bob.handle, "sent instead", alice.account);
    expect(sent.status).toBe(201);
    const receipt = await chain.settle(await jobsOf(alice.user.id, 1));
    expect(chain.paidEvents(receipt)).toHaveLength(1);
    await confirmAndIndex();
    const m = await call(e, "GET", `/v1/inbox/${sent.body.messageId}`, { token: bob.accessToken });
    expect(m.body).toMatchObject({ status: "paid", txHash: receipt.transactionHash });
  });

  it("refuses a forged signature, a changed body and a stale price before holding anything", async () => {
    const before = await money(e, alice.accessToken);
    const intent = await call(e, "POST", "/v1/payments/intents", {
      token: alice.accessToken,
      body: { to: bob.handle, body: "exact body" },
    });
    const t = intent.body.typedData;
    const stranger = privateKeyToAccount(generatePrivateKey());
    const forged = await stranger.signTypedData({
      ...t,
      message: {
        ...t.message,
        amount: BigInt(t.message.amount),
        nonce: BigInt(t.message.nonce),
        deadline: BigInt(t.message.deadline),
      },
    });
    const bad = await call(e, "POST", "/v1/messages", {
      token: alice.accessToken,
      body: { to: bob.handle, body: "exact body", payment: { message: t.message, signature: forged } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_signature");
    const changed = await call(e, "POST", "/v1/messages", {
      token: alice.accessToken,
      body: { to: bob.handle, body: "another body", payment: { message: t.message, signature: forged } },
    });
    expect(changed.status).toBe(409);
    expect(changed.body).toMatchObject({ error: "intent_mismatch", field: "contentHash" });
    const unsigned = await call(e, "POST", "/v1/messages", {
      token: alice.accessToken,
      body: { to: bob.handle, body: "no payment" },
    });
    expect(unsigned.status).toBe(409);
    expect(unsigned.body.error).toBe("payment_intent_required");
    expect(await money(e, alice.accessToken)).toEqual(before);
  });

  it("while FEE_BPS differs from the vault's fee: intents are refused and launch readiness fails", async () => {
    const wrong = chainEnv(info, { FEE_BPS: "300" }); // the vault was deployed charging 250
    const before = await money(e, alice.accessToken);
    const intent = await call(wrong, "POST", "/v1/payments/intents", {
      token: alice.accessToken,
      body: { to: bob.handle, body: "at which fee?" },
    });
    expect(intent.status).toBe(503);
    expect(intent.body.error).toBe("fee_mismatch");
    expect(await money(e, alice.accessToken)).toEqual(before);
    const readiness = async (env: Env) => {
      const r = await call(env, "GET", "/v1/compliance/launch-readiness", {
        headers: { authorization: `Bearer ${e.ADMIN_TOKEN}` },
      });
      return r.body.checks.find((c: { name: string }) => c.name === "chain_contracts");
    };
    expect(await readiness(wrong)).toEqual({
      name: "chain_contracts",
      status: "fail",
      reason: "FEE_BPS is 300 but the vault charges 250 basis points: quotes would not match what is charged",
    });
    expect((await readiness(e)).status).toBe("pass");
  });

  it("a free message needs no signature and settles nothing on chain", async () => {
    const free = await signUp("free");
    const pricing = await call(e, "PUT", "/v1/me/pricing", {
      token: free.accessToken,
      body: { defaultPrice: "0", firstContactPrice: "0", returnDiscountBps: 0, settlement: "instant" },
    });
    expect(pricing.status).toBe(200);
    const intent = await call(e, "POST", "/v1/payments/intents", {
      token: alice.accessToken,
      body: { to: free.handle, body: "hi" },
    });
    expect(intent.body.error).toBe("payment_not_needed");
    const before = await money(e, alice.accessToken);
    const sent = await call(e, "POST", "/v1/messages", {
      token: alice.accessToken,
      body: { to: free.handle, body: "hi" },
    });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ status: "delivered", total: "0" });
    expect(await money(e, alice.accessToken)).toEqual(before);
    expect(await openJobs(alice.user.id)).toEqual([]);
  });

  it("needs a linked wallet on both sides: a clear 409 before anything is signed", async () => {
    // A user with no wallet (as after passkey or social sign-in).
    const id = `u_nowallet${Date.now().toString(36)}`;
    await env.DB.prepare("INSERT INTO users (id, handle) VALUES (?, ?)")
      .bind(id, `nowallet_${Date.now().toString(36)}`)
      .run();
    const handle = (await env.DB.prepare("SELECT handle FROM users WHERE id = ?").bind(id).first<{ handle: string }>())
      ?.handle as string;
    const toUnlinked = await call(e, "POST", "/v1/payments/intents", {
      token: alice.accessToken,
      body: { to: handle, body: "hi" },
    });
    expect(toUnlinked.status).toBe(409);
    expect(toUnlinked.body.error).toBe("recipient_wallet_required");
    const token = await signAccessToken(e, id);
    const fromUnlinked = await call(e, "POST", "/v1/payments/intents", { token, body: { to: bob.handle, body: "hi" } });
    expect(fromUnlinked.status).toBe(409);
    expect(fromUnlinked.body.error).toBe("wallet_required");
    const send = await call(e, "POST", "/v1/messages", { token, body: { to: bob.handle, body: "hi" } });
    expect(send.body.error).toBe("wallet_required");
  });

  it("a deposit to an address nobody linked waits, and is credited once the wallet signs in", async () => {
    const newcomer = privateKeyToAccount(generatePrivateKey());
    await chain.fund(newcomer.address, 5n * USDC);
    await chain.deposit(newcomer, 5n * USDC);
    await confirmAndIndex();
    const held = await env.DB.prepare("SELECT amount FROM unclaimed_deposits WHERE address = ?")
      .bind(newcomer.address)
      .first<{ amount: string }>();
    expect(held?.amount).toBe(`${5n * USDC}`);
    const { signIn } = await import("./helpers");
    const user = await signIn(newcomer);
    await runCron(e);
    await runCron(e);
    expect(await money(e, user.accessToken)).toEqual({ balance: 5n * USDC, held: 0n });
    const gone = await env.DB.prepare("SELECT 1 FROM unclaimed_deposits WHERE address = ?")
      .bind(newcomer.address)
      .first();
    expect(gone).toBeNull();
  });

  it("a passkey/social user links a wallet by SIWE: its earlier deposits are credited, then they can pay", async () => {
    const id = `u_link${Date.now().toString(36)}`;
    await env.DB.prepare("INSERT INTO users (id) VALUES (?)").bind(id).run();
    const token = await signAccessToken(e, id);
    const wallet = privateKeyToAccount(generatePrivateKey());
    await chain.fund(wallet.address, 3n * USDC);
    await chain.deposit(wallet, 3n * USDC);
    await confirmAndIndex();
    expect(await money(e, token)).toEqual({ balance: 0n, held: 0n });

    const challenge = await call(e, "POST", "/v1/auth/siwe/challenge", { body: { address: wallet.address } });
    const signature = await wallet.signMessage({ message: challenge.body.message });
    const linked = await call(e, "POST", "/v1/me/wallet", {
      token,
      body: { message: challenge.body.message, signature },
    });
    expect(linked.status).toBe(200);
    expect(linked.body.user.walletAddress).toBe(wallet.address);
    await runCron(e);
    expect(await money(e, token)).toEqual({ balance: 3n * USDC, held: 0n });
    // Someone else's wallet cannot be linked twice.
    const again = await call(e, "POST", "/v1/auth/siwe/challenge", { body: { address: alice.account.address } });
    const other = await signAccessToken(e, id);
    const taken = await call(e, "POST", "/v1/me/wallet", {
      token: other,
      body: {
        message: again.body.message,
        signature: await alice.account.signMessage({ message: again.body.message }),
      },
    });
    expect(taken.status).toBe(409);
    const sent = await paySend(e, token, bob.handle, "linked and paying", wallet);
    expect(sent.status).toBe(201);
  });

  it("GET /v1/ops/status shows the indexer checkpoint and lag", async () => {
    await runCron(e);
    const s = await call(e, "GET", "/v1/ops/status", { headers: { authorization: `Bearer ${e.ADMIN_TOKEN}` } });
    expect(s.status).toBe(200);
    const head = Number(await chain.pub.getBlockNumber());
    expect(s.body.mode).toBe("chain");
    expect(s.body.indexer).toMatchObject({
      mode: "chain",
      headBlock: head,
      lagBlocks: CONFIRMATIONS,
      checkpointBlock: head - CONFIRMATIONS,
    });
    expect(s.body.indexer.lagSeconds).toBeGreaterThanOrEqual(0);
  });

  it("ops reindex moves the indexer's own checkpoint back, a running step does not undo it, nothing applies twice", async () => {
    await runCron(e);
    const before = await money(e, alice.accessToken);
    const ledgerOf = async () => (await call(e, "GET", "/v1/payments/ledger", { token: alice.accessToken })).body;
    const ledgerBefore = await ledgerOf();
    const admin = { authorization: `Bearer ${e.ADMIN_TOKEN}` };
    const reindex = (en: Env, fromBlock: number) =>
      call(en, "POST", "/v1/ops/reindex", { headers: admin, body: { fromBlock } });
    expect((await reindex(env, 1)).status).toBe(503); // chain mode off
    const head = Number(await chain.pub.getBlockNumber());
    expect((await reindex(e, head + 10)).status).toBe(400);

    const from = info.deployBlock + 1;
    const r = await reindex(e, from);
    expect(r.status).toBe(200);
    const block = await chain.pub.getBlock({ blockNumber: BigInt(from - 1) });
    const moved = { blockNumber: from - 1, blockHash: block.hash, blockTime: Number(block.timestamp) };
    expect(r.body.checkpoint).toEqual(moved);
    // The id the indexer itself reads (chainId:vault, checksummed), in the app's own D1.
    const c = chainConfig(e);
    expect(c && (await readCheckpoint(e, c))).toEqual(moved);

    // An indexer step that was already running when the reindex landed does not overwrite it.
    if (!c) throw new Error("chain config");
    await chain.mine(CONFIRMATIONS + 2); // so the step has a range to read
    const real = chainClient(c);
    const racing = {
      ...real,
      getLogs: async (args: Parameters<typeof real.getLogs>[0]) => {
        const logs = await real.getLogs(args);
        await rewindTo(e, c, from + 1); // an operator's reindex lands while this step reads
        return logs;
      },
    } as typeof real;
    await indexOnce(e, c, racing);
    const then = await chain.pub.getBlock({ blockNumber: BigInt(from) });
    expect(await readCheckpoint(e, c)).toEqual({
      blockNumber: from,
      blockHash: then.hash,
      blockTime: Number(then.timestamp),
    });

    // The next Cron run re-reads every vault event since the deploy: caught up, nothing applied twice.
    await runCron(e);
    expect((await readCheckpoint(e, c))?.blockNumber).toBe(Number(await chain.pub.getBlockNumber()) - CONFIRMATIONS);
    expect(await money(e, alice.accessToken)).toEqual(before);
    expect(await ledgerOf()).toEqual(ledgerBefore);
  });
});

describe("chain mode end to end (ERC-1271 smart-account payer)", () => {
  it("deposits for, pays by the owner's signature through the RPC check, and settles", async () => {
    const owner = privateKeyToAccount(generatePrivateKey());
    const funder = privateKeyToAccount(generatePrivateKey());
    await chain.fund(funder.address, 10n * USDC);
    const deployer = chainTools(info);
    void deployer;
    const { createWalletClient, http } = await import("viem");
    const { foundry } = await import("viem/chains");
    const w = createWalletClient({
      account: funder,
      chain: { ...foundry, rpcUrls: { default: { http: [info.rpcUrl] } } },
      transport: http(info.rpcUrl),
    });
    const hash = await w.deployContract({
      abi: walletFixture.abi,
      bytecode: walletFixture.bytecode as `0x${string}`,
      args: [owner.address],
    });
    const wallet = (await chain.pub.waitForTransactionReceipt({ hash })).contractAddress as Address;

    // SIWE as the contract wallet (verified through the RPC).
    const challenge = await call(e, "POST", "/v1/auth/siwe/challenge", { body: { address: wallet } });
    const signature = await owner.signMessage({ message: challenge.body.message });
    const session = await call(e, "POST", "/v1/auth/siwe/verify", {
      body: { message: challenge.body.message, signature },
    });
    expect(session.status).toBe(200);
    const token = session.body.accessToken as string;

    await chain.deposit(funder, 10n * USDC, wallet);
    await confirmAndIndex();
    expect(await money(e, token)).toEqual({ balance: 10n * USDC, held: 0n });

    const carol = await signUp("carol");
    const sent = await paySend(e, token, carol.handle, "from a smart account", owner);
    expect(sent.status).toBe(201);
    expect(sent.body.status).toBe("accepted");
    const receipt = await chain.settle(await jobsOf(session.body.user.id, 1));
    expect(chain.paidEvents(receipt)).toHaveLength(1);
    await confirmAndIndex();
    const m = await call(e, "GET", `/v1/inbox/${sent.body.messageId}`, { token: carol.accessToken });
    expect(m.body).toMatchObject({ status: "paid", txHash: receipt.transactionHash });
    expect(await money(e, carol.accessToken)).toEqual({ balance: USDC, held: 0n });
    expect(await money(e, token)).toEqual({ balance: 10n * USDC - 1_025_000n, held: 0n });
  });
});

describe("the D1 mirror in chain mode", () => {
  it("sums the Accounts' flushed totals to a conserved ledger (deposits − withdrawals = balances + held + fees)", async () => {
    let summary: any = null;
    for (let i = 0; i < 40; i++) {
      const r = await call(e, "GET", "/v1/ops/ledger-summary", {
        headers: { authorization: `Bearer ${e.ADMIN_TOKEN}` },
      });
      summary = r.body;
      if (summary.deposits !== "0" && summary.conserved && summary.held === "0") break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(summary).toMatchObject({ conserved: true, topups: "0" });
    expect(BigInt(summary.deposits)).toBeGreaterThan(0n);
    expect(BigInt(summary.withdrawals)).toBe(600_000n);
  });
});
