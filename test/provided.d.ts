export interface ChainInfo {
  rpcUrl: string;
  chainId: number;
  vault: `0x${string}`;
  token: `0x${string}`;
  deployBlock: number;
  /** test/fakes/rpc-proxy.mjs in front of rpcUrl (the chaos file's anvil only). */
  proxyUrl?: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the fake OAuth/SMS/email provider started by test/fakes/global-setup.mjs. */
    fakeProviderUrl: string;
    /** JSON-RPC URL of the anvil started by test/fakes/global-setup.mjs. */
    anvilUrl: string;
    /** An ERC-1271 contract wallet deployed there, and its owner's key. */
    contractWallet: { address: `0x${string}`; ownerKey: `0x${string}` };
    /** Anvils with MockUSDC + PayInboxVault deployed, one per chain test file (test/fakes/chain.mjs). */
    chains: Record<"e2e" | "chaos" | "relayerPath" | "relayer" | "claim" | "lease", ChainInfo>;
  }
}
