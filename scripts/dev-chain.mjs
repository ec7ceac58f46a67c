#!/usr/bin/env node
// `npm run dev:chain`: the app on a local chain, in one command.
//   1. anvil (npm @foundry-rs/anvil) on 127.0.0.1:${ANVIL_PORT:-8545}, MockUSDC + PricingRegistry + PayInboxVault
//      deployed and 1,000,000 test USDC minted to each of anvil's 10 dev accounts (scripts/chain-up.mjs)
//   2. .dev.vars, the web UI, D1 migrations (a separate local state dir: .wrangler/chain-state, emptied first:
//      the chain is a fresh anvil each time, so Accounts, balances and the indexer checkpoint of the last
//      run would describe blocks and nonces that no longer exist)
//   3. wrangler dev on http://127.0.0.1:${PORT:-8787} with LEDGER_MODE=chain and the deployed addresses
//   4. the cron: wrangler dev does not fire cron triggers, so scripts/indexer-driver.mjs calls the real
//      `scheduled()` handler through `--test-scheduled`'s `/__scheduled` — short catch-up runs
//      (INDEXER_RUN_MS=0), as bench:chain and e2e/chain.test.ts do, every second (anvil mines a block a second
//      here; polling faster only adds a log line) — so receipts show within seconds.
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { chainUp, rpc } from "./chain-up.mjs";
import { driveIndexer, SHORT_RUN_VARS } from "./indexer-driver.mjs";
import { bin, prepareLocalApp } from "./local-app.mjs";

const port = process.env.PORT ?? "8787";
const anvilPort = Number(process.env.ANVIL_PORT ?? 8545);
const persist = ".wrangler/chain-state";
const chain = await chainUp({ port: anvilPort });
const d = chain.deployment;
// A block every second (besides one per transaction), so deposits confirm without other traffic.
await rpc(chain.rpcUrl, "evm_setIntervalMining", [1]);
console.log(
  `• local chain ${chain.rpcUrl}: vault ${d.vault}, USDC ${d.token} (1,000,000 USDC on each anvil dev account)`,
);

rmSync(persist, { recursive: true, force: true });
prepareLocalApp({ persistTo: persist });

const vars = {
  LEDGER_MODE: "chain",
  CHAIN_ID: String(d.chainId),
  CHAIN_RPC_URL: chain.rpcUrl,
  VAULT_ADDRESS: d.vault,
  TOKEN_ADDRESS: d.token,
  CHAIN_START_BLOCK: String(d.deployBlock),
  // One-second blocks locally: 2 confirmations show a deposit as pending for about two seconds.
  CONFIRMATIONS: process.env.CONFIRMATIONS ?? "2",
  // The relayer's key: anvil's account #1 (a public test key), which chain:up names as the relayer.
  RELAYER_PRIVATE_KEY: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  ...SHORT_RUN_VARS,
};
console.log(`• starting wrangler dev on http://127.0.0.1:${port} (LEDGER_MODE=chain)`);
const dev = spawn(
  bin("wrangler"),
  [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    port,
    "--persist-to",
    persist,
    "--test-scheduled",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);

// The cron driver, once the server answers.
const base = `http://127.0.0.1:${port}`;
let stopping = false;
let indexer = null;
(async () => {
  for (let i = 0; i < 600 && !stopping; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  if (stopping) return;
  // A failing run is worth one line, not one every 500 ms.
  let last = "";
  indexer = driveIndexer(base, {
    everyMs: 1_000,
    onError: (err) => {
      if (err.message !== last) console.warn(`cron: ${err.message}`);
      last = err.message;
    },
  });
})();

async function shutdown(sig) {
  stopping = true;
  await indexer?.stop();
  dev.kill(sig);
  await chain.stop();
}
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => void shutdown(sig));
dev.on("exit", async (code) => {
  stopping = true;
  await indexer?.stop();
  await chain.stop();
  process.exit(code ?? 0);
});
