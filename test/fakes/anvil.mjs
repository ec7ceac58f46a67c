// A real anvil for the Worker tests (started by global-setup.mjs, in Node): the
// smart-account (ERC-1271) sign-in test deploys a contract wallet on it and the
// Worker verifies signatures through it over JSON-RPC.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createWalletClient, http, publicActions } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { freePort } from "../../scripts/free-port.mjs";

// anvil's first default account (funded on every fresh anvil; a public test key).
const DEPLOYER = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

export async function startAnvil() {
  const port = await freePort();
  const proc = spawn("node_modules/.bin/anvil", ["--host", "127.0.0.1", "--port", String(port), "--silent"], {
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const client = createWalletClient({
    account: privateKeyToAccount(DEPLOYER),
    chain: foundry,
    transport: http(url),
  }).extend(publicActions);
  for (let i = 0; i < 100; i++) {
    try {
      await client.getChainId();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, client, close: () => proc.kill() };
}

/** Deploys the MockERC1271Wallet fixture owned by `owner`; returns its address. */
export async function deployContractWallet(client, owner) {
  const { abi, bytecode } = JSON.parse(
    readFileSync(new URL("../fixtures/erc1271-wallet.json", import.meta.url), "utf8"),
  );
  const hash = await client.deployContract({ abi, bytecode, args: [owner] });
  const receipt = await client.waitForTransactionReceipt({ hash });
  return receipt.contractAddress;
}
