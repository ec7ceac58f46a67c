// Vitest globalSetup (runs in Node): starts the fake OAuth/SMS/email provider and
// a real anvil on 127.0.0.1 and provides their URLs to the tests.
import { privateKeyToAccount } from "viem/accounts";
import { deployContractWallet, startAnvil } from "./anvil.mjs";
import { startChain } from "./chain.mjs";
import { FAKE } from "./credentials.ts";
import { startFakeProviders } from "./provider-server.mjs";
import { startRpcProxy } from "./rpc-proxy.mjs";

// The owner key of the contract wallet used by the smart-account sign-in test.
export const WALLET_OWNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/** @param {import("vitest/node").TestProject} project */
export default async function setup(project) {
  const [server, anvil, chainE2e, chainChaos, chainRelay, chainRelayer, chainClaim, chainLease] = await Promise.all([
    startFakeProviders(FAKE),
    startAnvil(),
    startChain(),
    startChain(),
    startChain(),
    startChain(),
    startChain(),
    startChain(),
  ]);
  // Chain mode (test/chain-*.test.ts): one anvil with the vault per test file, so files
  // that mine, snapshot or stop mining never disturb each other.
  // The chaos file reaches its anvil through a proxy that can fail or duplicate on demand.
  const proxy = await startRpcProxy(chainChaos.info.rpcUrl);
  project.provide("chains", {
    e2e: chainE2e.info,
    chaos: { ...chainChaos.info, proxyUrl: proxy.url },
    relayerPath: chainRelay.info, // test/chain-relayer.test.ts
    // test/relayer.test.ts stops and starts mining and drops transactions.
    relayer: chainRelayer.info,
    claim: chainClaim.info, // test/chain-claim.test.ts reindexes from before its deposits
    lease: chainLease.info, // test/chain-lease.test.ts runs indexers side by side
  });
  project.provide("fakeProviderUrl", server.url);
  project.provide("anvilUrl", anvil.url);
  project.provide("contractWallet", {
    address: await deployContractWallet(anvil.client, privateKeyToAccount(WALLET_OWNER_KEY).address),
    ownerKey: WALLET_OWNER_KEY,
  });
  return () => {
    anvil.close();
    chainRelayer.close();
    chainE2e.close();
    chainChaos.close();
    chainRelay.close();
    chainClaim.close();
    chainLease.close();
    proxy.close();
    return server.close();
  };
}
