#!/usr/bin/env node
// End-to-end check of a local deployment through viem, the way the worker uses it: anvil up (ANVIL_PORT, or a free
// port), deposit, an EIP-712 `Payment` signed with viem's signTypedData and settled by the relayer in a batch, the
// `Deposited` / `MessagePaid` logs read back with getLogs, anvil stopped. Exits non-zero on any mismatch.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createPublicClient, createWalletClient, http, keccak256, parseEventLogs, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { chainUp } from "./chain-up.mjs";
import { freePort } from "./free-port.mjs";
import { loadTs } from "./load-ts.mjs";

// The same artifacts worker/chain/abis.ts is generated from (node 20 cannot import .ts).
const abiOf = (artifact) =>
  JSON.parse(readFileSync(new URL(`../contracts/out/${artifact}`, import.meta.url), "utf8")).abi;
const { PAYMENT_TYPES } = await loadTs("worker/domain/payment-intent.ts");
const vaultAbi = abiOf("PayInboxVault.sol/PayInboxVault.json");
const mockUsdcAbi = abiOf("MockUSDC.sol/MockUSDC.json");

const mnemonic = "test test test test test test test test test test test junk";
const [relayer, payer, recipient] = [1, 2, 3].map((i) => mnemonicToAccount(mnemonic, { addressIndex: i }));

// A free port unless told otherwise: `npm test` must not collide with a running `npm run chain:up`.
const port = process.env.ANVIL_PORT ? Number(process.env.ANVIL_PORT) : await freePort();
const { rpcUrl, deployment: d, stop } = await chainUp({ port, quiet: true });
try {
  const chain = { ...foundry, rpcUrls: { default: { http: [rpcUrl] } } };
  const pub = createPublicClient({ chain, transport: http(rpcUrl) });
  const wallet = (account) => createWalletClient({ account, chain, transport: http(rpcUrl) });
  const send = async (account, address, abi, functionName, args) => {
    const hash = await wallet(account).writeContract({ address, abi, functionName, args });
    const receipt = await pub.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, "success", functionName);
    return receipt;
  };

  await send(payer, d.token, mockUsdcAbi, "approve", [d.vault, 10_000_000n]);
  await send(payer, d.vault, vaultAbi, "deposit", [10_000_000n]);

  const payment = {
    payer: payer.address,
    recipient: recipient.address,
    messageId: keccak256(toHex("sender-1:idem-1")),
    contentHash: keccak256(toHex("hello")),
    amount: 2_000_000n,
    nonce: await pub.readContract({ address: d.vault, abi: vaultAbi, functionName: "nonces", args: [payer.address] }),
    deadline: BigInt(Math.floor(Date.now() / 1000) + 3600),
  };
  const signature = await payer.signTypedData({
    domain: { name: "PayInboxVault", version: "1", chainId: d.chainId, verifyingContract: d.vault },
    // The Worker's own type (what intents carry), so this checks it against the deployed vault.
    types: PAYMENT_TYPES,
    primaryType: "Payment",
    message: payment,
  });
  const receipt = await send(relayer, d.vault, vaultAbi, "settleBatch", [[{ payment, channel: 1, signature }]]);

  const [paid] = parseEventLogs({ abi: vaultAbi, logs: receipt.logs, eventName: "MessagePaid" });
  assert.equal(paid.args.messageId, payment.messageId);
  assert.equal(paid.args.amount, 2_000_000n);
  assert.equal(paid.args.fee, 50_000n);
  const deposits = await pub.getContractEvents({
    address: d.vault,
    abi: vaultAbi,
    eventName: "Deposited",
    fromBlock: BigInt(d.deployBlock),
  });
  assert.equal(deposits.length, 1);
  const balance = (a) => pub.readContract({ address: d.vault, abi: vaultAbi, functionName: "balanceOf", args: [a] });
  assert.equal(await balance(payer.address), 7_950_000n);
  assert.equal(await balance(recipient.address), 2_000_000n);
  console.log(`chain smoke ok: MessagePaid in ${receipt.transactionHash} (gas ${receipt.gasUsed})`);
} finally {
  await stop();
}
