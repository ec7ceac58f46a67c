#!/usr/bin/env node
// npm run contracts:deploy:sepolia — deploys PricingRegistry + PayInboxVault to Base Sepolia (chain 84532) with
// contracts/script/DeploySepolia.s.sol, writes contracts/deployments/84532.json and regenerates worker/chain/abis.ts.
//
// Env: BASE_SEPOLIA_RPC_URL and DEPLOYER_PRIVATE_KEY (required); OWNER, FEE_RECIPIENT, FEE_BPS, RELAYER, TOKEN
// (optional, see Deploy.s.sol; TOKEN defaults to Circle's Base Sepolia USDC). ETHERSCAN_API_KEY adds --verify.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeAbis } from "./chain-abis.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { BASE_SEPOLIA_RPC_URL: rpc, DEPLOYER_PRIVATE_KEY: key, ETHERSCAN_API_KEY: etherscan } = process.env;
if (!rpc || !key) {
  console.error("set BASE_SEPOLIA_RPC_URL and DEPLOYER_PRIVATE_KEY (see contracts/README.md)");
  process.exit(1);
}
const args = ["script", "script/DeploySepolia.s.sol:DeploySepolia", "--rpc-url", rpc, "--private-key", key];
args.push("--broadcast", "--slow");
if (etherscan) args.push("--verify", "--etherscan-api-key", etherscan);
const r = spawnSync(path.join(root, "node_modules/.bin/forge"), args, {
  cwd: path.join(root, "contracts"),
  stdio: "inherit",
});
if (r.status !== 0) process.exit(r.status ?? 1);
const file = path.join(root, "contracts/deployments/84532.json");
writeFileSync(file, `${JSON.stringify(JSON.parse(readFileSync(file, "utf8")), null, 2)}\n`); // formatter-friendly
writeAbis();
console.log("wrote contracts/deployments/84532.json and worker/chain/abis.ts");
