// Chain mode in the browser: its own anvil (MockUSDC + PayInboxVault) and its own
// `wrangler dev` with LEDGER_MODE=chain, the real scheduled() indexer driven through
// `--test-scheduled` (short catch-up runs, INDEXER_RUN_MS=0, as bench:chain does).
// Alice pays Bob from the UI (the test wallet signs the EIP-712 intent); Bob replies
// to her from the UI, paid at Alice's price, so his wallet signs too; the reply is
// accepted and shows paid once the relayer settled it and the indexer saw it. A free
// message afterwards goes without a signature.
import { createWalletClient, erc20Abi, http, type PrivateKeyAccount, parseAbi, publicActions, toHex } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { driveIndexer, SHORT_RUN_VARS } from "../scripts/indexer-driver.mjs";
import { startWranglerDev } from "../scripts/wrangler-dev.mjs";
import { startChain } from "../test/fakes/chain.mjs";
import { api as apiAt, screenshot, signInWithWallet, walletUser } from "./helpers";

const USDC = 1_000_000n;
// anvil's dev accounts (public test keys): #0 deployed the contracts, #1 relays, #2 and #3 are Alice and Bob.
const anvilKey = (i: number) => {
  const hd = mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex: i });
  return toHex(hd.getHdKey().privateKey as Uint8Array);
};
const dev = (i: number) => privateKeyToAccount(anvilKey(i));

let chain: Awaited<ReturnType<typeof startChain>> | undefined;
let app: Awaited<ReturnType<typeof startWranglerDev>> | undefined;
let base = "";
let indexer: { stop: () => Promise<void> } | undefined;

beforeAll(async () => {
  chain = await startChain();
  const { rpcUrl, chainId, vault, token, deployBlock } = chain.info;
  // A block every second, so confirmations come without other traffic.
  await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "evm_setIntervalMining", params: [1] }),
  });
  app = await startWranglerDev({
    vars: {
      LEDGER_MODE: "chain",
      CHAIN_ID: String(chainId),
      CHAIN_RPC_URL: rpcUrl,
      VAULT_ADDRESS: vault,
      TOKEN_ADDRESS: token,
      CHAIN_START_BLOCK: String(deployBlock),
      CONFIRMATIONS: "1",
      RELAYER_PRIVATE_KEY: anvilKey(1),
      // Each scheduled() run catches up and returns; driveIndexer below calls it every 500 ms.
      ...SHORT_RUN_VARS,
    },
    args: ["--test-scheduled", "--show-interactive-dev-session=false", "--log-level", "warn"],
    stdio: ["ignore", "inherit", "inherit"],
    prefix: "paid-inbox-e2e-chain-",
    timeoutMs: 60_000,
  });
  base = `http://localhost:${app.port}`;
  indexer = driveIndexer(base);
}, 120_000);

afterAll(async () => {
  await indexer?.stop();
  await app?.stop();
  chain?.close();
});

const api = (method: string, p: string, opts: { token?: string; body?: unknown } = {}) =>
  apiAt(method, p, { ...opts, base });

/** SIWE from Node (links the wallet), a handle, a price; then 10 USDC deposited into the vault from the wallet. */
async function chainUser(account: PrivateKeyAccount, prefix: string, price: bigint) {
  const { body: ch } = await api("POST", "/v1/auth/siwe/challenge", { body: { address: account.address } });
  const signature = await account.signMessage({ message: ch.message });
  const { body: s } = await api("POST", "/v1/auth/siwe/verify", { body: { message: ch.message, signature } });
  const handle = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  expect(
    (await api("PUT", "/v1/me/profile", { token: s.accessToken, body: { handle, displayName: prefix } })).status,
  ).toBe(200);
  const pricing = {
    defaultPrice: String(price),
    firstContactPrice: String(price),
    returnDiscountBps: 0,
    settlement: "instant",
  };
  expect((await api("PUT", "/v1/me/pricing", { token: s.accessToken, body: pricing })).status).toBe(200);

  const { rpcUrl, vault, token } = (chain as NonNullable<typeof chain>).info as {
    rpcUrl: string;
    vault: `0x${string}`;
    token: `0x${string}`;
  };
  const wallet = createWalletClient({ account, chain: foundry, transport: http(rpcUrl) }).extend(publicActions);
  const amount = 10n * USDC;
  const mined = async (hash: `0x${string}`) =>
    expect((await wallet.waitForTransactionReceipt({ hash })).status).toBe("success");
  await mined(
    await wallet.writeContract({
      address: token,
      abi: parseAbi(["function mint(address,uint256)"]),
      functionName: "mint",
      args: [account.address, amount],
    }),
  );
  await mined(
    await wallet.writeContract({ address: token, abi: erc20Abi, functionName: "approve", args: [vault, amount] }),
  );
  await mined(
    await wallet.writeContract({
      address: vault,
      abi: parseAbi(["function deposit(uint256)"]),
      functionName: "deposit",
      args: [amount],
    }),
  );
  // The indexer credits the deposit after CONFIRMATIONS blocks.
  await expect
    .poll(async () => (await api("GET", "/v1/me", { token: s.accessToken })).body.balance, {
      timeout: 20_000,
      interval: 500,
    })
    .toBe(String(amount));
  return { account, handle, token: s.accessToken as string };
}

async function signedInPage(account: PrivateKeyAccount) {
  const user = await walletUser({ account, baseURL: base });
  await user.page.goto("/signin");
  await signInWithWallet(user.page);
  await user.page.waitForURL("**/inbox");
  return user;
}

describe("chain mode", () => {
  it("a paid message and a paid reply, each signed in the wallet (EIP-712), settle on chain; a free one needs no signature", async () => {
    const t0 = Date.now();
    const [alice, bob] = await Promise.all([
      chainUser(dev(2), "alice", 1n * USDC),
      chainUser(dev(3), "bob", 2n * USDC),
    ]);
    const funded = Date.now();

    // Alice pays Bob's $2 (+2.5 % fee): the test wallet signs the intent.
    const a = await signedInPage(alice.account);
    await a.page.goto(`/@${bob.handle}`);
    await a.page.getByLabel("Your message").fill("Hi Bob, paid on chain.");
    await a.page.getByRole("button", { name: "Pay $2.05 and send" }).click();
    await a.page.getByRole("heading", { name: "Sent — settling" }).waitFor();

    // Bob replies: the reply goes to Alice at her price, so his wallet signs an intent too.
    const b = await signedInPage(bob.account);
    await b.page.getByRole("link", { name: /Hi Bob, paid on chain/ }).click();
    await b.page.getByLabel("Your message").fill("Thanks Alice, replying on chain.");
    await b.page.getByRole("button", { name: "Pay $1.025 and send" }).click();
    await b.page.getByRole("heading", { name: "Sent — settling" }).waitFor();
    await screenshot(b.page, "chain-reply-settling");
    const accepted = Date.now();

    // The relayer settles it, the indexer sees MessagePaid: the reply is paid with its txHash…
    const outbox = async () => (await api("GET", "/v1/outbox", { token: bob.token })).body;
    await expect
      .poll(async () => (await outbox()).messages?.[0]?.status, { timeout: 20_000, interval: 500 })
      .toBe("paid");
    const reply = (await outbox()).messages[0];
    expect(reply.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(reply.inReplyTo).not.toBeNull();
    // …and Bob's outbox in the UI says so.
    await b.page.goto("/outbox");
    await b.page.getByText("Paid on chain").waitFor();
    await screenshot(b.page, "chain-reply-paid");
    const paid = Date.now();

    // A free message in chain mode is sent as it is: nothing to sign (the vault refuses zero amounts).
    const free = { defaultPrice: "0", firstContactPrice: "0", returnDiscountBps: 0, settlement: "instant" };
    expect((await api("PUT", "/v1/me/pricing", { token: bob.token, body: free })).status).toBe(200);
    await a.page.goto(`/@${bob.handle}`);
    await a.page.getByLabel("Your message").fill("And a free one.");
    await a.page.getByRole("button", { name: "Send for free" }).click();
    await a.page.getByRole("heading", { name: "Delivered", exact: true }).waitFor();
    console.log(
      `chain e2e: funded ${funded - t0} ms, send + reply accepted ${accepted - funded} ms, reply paid ${paid - accepted} ms`,
    );
    await a.context.close();
    await b.context.close();
  });
});
