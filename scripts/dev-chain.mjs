#!/usr/bin/env node
// `npm run dev:chain`: the app on a local chain, in one command.
//   1. anvil (npm @foundry-rs/anvil) on 127.0.0.1:${ANVIL_PORT:-8545}, MockUSDC + PricingRegistry + PayInboxVault
//      deployed and 1,000,000 test USDC minted to each of anvil's 10 dev accounts (scripts/chain-up.mjs)
//   2. .dev.vars, the web UI, D1 migrations (a separate local state dir: .wrangler/chain-state)
//   3. wrangler dev on http://127.0.0.1:${PORT:-8787} with LEDGER_MODE=chain and the deployed addresses
//   4. the cron: wrangler dev does not fire cron triggers, and `/cdn-cgi/handler/scheduled` fails with static
//      assets, so this script calls the real `scheduled()` handler through `--test-scheduled`'s `/__scheduled`
//      route (the Worker runs first for every path but /assets/*) once a minute, like the Cron Trigger would.
//      Each run's indexer polls every INDEXER_POLL_MS for INDEXER_RUN_MS, so receipts show within seconds.
import { spawn, spawnSync } from "node:child_process";
import { chainUp } from "./chain-up.mjs";
import { ensureDevVars } from "./dev-vars.mjs";

const port = process.env.PORT ?? "8787";
const anvilPort = Number(process.env.ANVIL_PORT ?? 8545);
const persist = ".wrangler/chain-state";
const bin = (name) => `node_modules/.bin/${name}`;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`✗ ${cmd} ${args.join(" ")} failed`);
    process.exit(r.status ?? 1);
  }
}

const chain = await chainUp({ port: anvilPort });
const d = chain.deployment;
// A block every second (besides one per transaction), so deposits confirm without other traffic.
await fetch(chain.rpcUrl, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "evm_setIntervalMining", params: [1] }),
});
console.log(
  `• local chain ${chain.rpcUrl}: vault ${d.vault}, USDC ${d.token} (1,000,000 USDC on each anvil dev account)`,
);

if (ensureDevVars()) console.log("• created .dev.vars with fresh random secrets");
console.log("• building the web UI");
run(bin("vite"), ["build", "--config", "frontend/vite.config.ts", "--logLevel", "warn"]);
console.log("• applying D1 migrations (local, chain state)");
run(bin("wrangler"), ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist]);

const vars = {
  LEDGER_MODE: "chain",
  CHAIN_ID: String(d.chainId),
  CHAIN_RPC_URL: chain.rpcUrl,
  VAULT_ADDRESS: d.vault,
  TOKEN_ADDRESS: d.token,
  CHAIN_START_BLOCK: String(d.deployBlock),
  // One-second blocks locally: 2 confirmations show a deposit as pending for about two seconds.
  CONFIRMATIONS: process.env.CONFIRMATIONS ?? "2",
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

// The cron driver: the real scheduled() handler, once a minute (and right away once the server answers).
const base = `http://127.0.0.1:${port}`;
let stopping = false;
async function cronLoop() {
  for (let i = 0; i < 600 && !stopping; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  while (!stopping) {
    const started = Date.now();
    try {
      const res = await fetch(`${base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
      if (!res.ok) console.warn(`cron: /__scheduled answered ${res.status}`);
    } catch (err) {
      if (!stopping) console.warn(`cron: ${err.message}`);
    }
    await new Promise((r) => setTimeout(r, Math.max(1_000, 60_000 - (Date.now() - started))));
  }
}
void cronLoop();

async function shutdown(sig) {
  stopping = true;
  dev.kill(sig);
  await chain.stop();
}
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => void shutdown(sig));
dev.on("exit", async (code) => {
  stopping = true;
  await chain.stop();
  process.exit(code ?? 0);
});
