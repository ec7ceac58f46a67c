// A real anvil with Paid Inbox's contracts for the chain-mode tests (run in Node by
// global-setup.mjs): MockUSDC and PayInboxVault compiled by forge from contracts/src
// and deployed with viem by anvil's first account. Each test file that pokes at
// the chain (snapshots, reverts, mining) gets its own anvil, so files never disturb
// each other.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { startAnvil } from "./anvil.mjs";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url);

let built = null;
/** forge build of contracts/src only (tests and scripts are not needed here); cached by forge. */
function buildContracts() {
  built ??= run(new URL("node_modules/.bin/forge", root).pathname, ["build", "--skip", "test", "--skip", "script"], {
    cwd: new URL("contracts/", root).pathname,
  });
  return built;
}

const artifact = (name) => JSON.parse(readFileSync(new URL(`contracts/out/${name}.sol/${name}.json`, root), "utf8"));

/** @returns {Promise<{ info: { rpcUrl: string, chainId: number, vault: string, token: string, deployBlock: number }, close: () => void }>} */
export async function startChain() {
  const [anvil] = await Promise.all([startAnvil(), buildContracts()]);
  const { client } = anvil;
  const deploy = async (name, args) => {
    const a = artifact(name);
    const hash = await client.deployContract({ abi: a.abi, bytecode: a.bytecode.object, args });
    return (await client.waitForTransactionReceipt({ hash })).contractAddress;
  };
  const token = await deploy("MockUSDC", []);
  const owner = client.account.address;
  const vault = await deploy("PayInboxVault", [token, owner, owner, 250n]);
  const deployBlock = Number(await client.getBlockNumber());
  return { info: { rpcUrl: anvil.url, chainId: 31337, vault, token, deployBlock }, close: anvil.close };
}
