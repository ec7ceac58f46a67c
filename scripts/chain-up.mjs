#!/usr/bin/env node
// npm run chain:up — a local chain with Paid Inbox deployed.
//
// Starts anvil (npm @foundry-rs/anvil) on 127.0.0.1:$ANVIL_PORT (default 8545), deploys MockUSDC, PricingRegistry
// and PayInboxVault with contracts/script/Deploy.s.sol (minting 1,000,000 test USDC to anvil's 10 funded accounts),
// writes contracts/deployments/<chainId>.json and worker/chain/abis.ts, prints the addresses, and keeps anvil in
// the foreground until Ctrl-C.
//
//   --detach or CHAIN_UP_EXIT=1   deploy, write the files, stop anvil and exit (nothing left running)
//   import { chainUp } from "./scripts/chain-up.mjs"   from tests: `const c = await chainUp({ port }); …; await c.stop()`
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { writeAbis } from "./chain-abis.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => path.join(root, "node_modules/.bin", name);

// anvil's dev accounts (mnemonic "test test … junk"): #0 deploys and owns, #1 is the suggested relayer.
const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";
const anvilAccount = (i) => {
  const account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: i });
  return { address: account.address, key: toHex(account.getHdKey().privateKey) };
};
const DEPLOYER = anvilAccount(0);
const RELAYER = anvilAccount(1);

/** One JSON-RPC call to a node; answers `result`, throws the node's error message. */
export async function rpc(url, method, params = []) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function isUp(url) {
  try {
    await rpc(url, "eth_chainId");
    return true;
  } catch {
    return false;
  }
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${path.basename(cmd)} exited ${code}\n${out}`)),
    );
  });
}

/**
 * Starts anvil, deploys, writes contracts/deployments/<chainId>.json and worker/chain/abis.ts.
 * @param {{ port?: number, quiet?: boolean }} [options]
 * @returns {Promise<{ rpcUrl: string, deployment: object, stop: () => Promise<void> }>}
 */
export async function chainUp({ port = Number(process.env.ANVIL_PORT ?? 8545), quiet = false } = {}) {
  const rpcUrl = `http://127.0.0.1:${port}`;
  if (await isUp(rpcUrl)) throw new Error(`something already answers JSON-RPC on ${rpcUrl} (set ANVIL_PORT)`);

  const anvil = spawn(bin("anvil"), ["--host", "127.0.0.1", "--port", String(port), "--chain-id", "31337"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let anvilLog = "";
  anvil.stdout.on("data", (d) => {
    anvilLog += d;
  });
  anvil.stderr.on("data", (d) => {
    anvilLog += d;
  });
  const exited = new Promise((resolve) => anvil.on("exit", resolve));
  const stop = async () => {
    if (anvil.exitCode === null && anvil.signalCode === null) anvil.kill("SIGTERM");
    await exited;
  };

  try {
    for (let i = 0; !(await isUp(rpcUrl)); i++) {
      if (anvil.exitCode !== null || i > 100) throw new Error(`anvil did not start\n${anvilLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const chainId = Number(await rpc(rpcUrl, "eth_chainId"));
    const log = quiet ? () => {} : (m) => console.log(m);
    log(`anvil up on ${rpcUrl} (chain ${chainId}); deploying…`);

    const contracts = path.join(root, "contracts");
    await run(
      bin("forge"),
      ["script", "script/Deploy.s.sol:Deploy", "--rpc-url", rpcUrl, "--private-key", DEPLOYER.key, "--broadcast"],
      { cwd: contracts, env: { ...process.env, RELAYER: RELAYER.address, TOKEN: "" } },
    );
    const file = path.join(contracts, "deployments", `${chainId}.json`);
    const deployment = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, `${JSON.stringify(deployment, null, 2)}\n`); // stable, formatter-friendly
    writeAbis();
    return { rpcUrl, deployment, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main() {
  const detach = process.argv.includes("--detach") || process.env.CHAIN_UP_EXIT === "1";
  const { rpcUrl, deployment, stop } = await chainUp();
  console.log(`
Paid Inbox local chain — ${rpcUrl} (chain ${deployment.chainId})
  vault         ${deployment.vault}
  token (USDC)  ${deployment.token}
  registry      ${deployment.registry}
  owner         ${deployment.owner}
  feeRecipient  ${deployment.feeRecipient} (fee ${deployment.feeBps} bps)
  relayer       ${RELAYER.address} (anvil account #1, key ${RELAYER.key})
  deployBlock   ${deployment.deployBlock}
  test USDC     1,000,000 minted to each of anvil's 10 accounts (mnemonic "test test … junk")
  wrote         contracts/deployments/${deployment.chainId}.json, worker/chain/abis.ts`);
  if (detach) {
    await stop();
    console.log("detached mode: anvil stopped.");
    return;
  }
  console.log("\nanvil is running; Ctrl-C to stop.");
  const shutdown = async () => {
    await stop();
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err.message ?? err);
    process.exit(1);
  });
}
