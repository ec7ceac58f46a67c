// What test/fakes/global-setup.mjs provides to the tests (vitest inject()).
export {};

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the fake OAuth/SMS/email provider started by test/fakes/global-setup.mjs. */
    fakeProviderUrl: string;
    /** JSON-RPC URL of the anvil started by test/fakes/global-setup.mjs. */
    anvilUrl: string;
    /** JSON-RPC URL of a second anvil, only for test/relayer.test.ts (it toggles mining, drops transactions). */
    relayerAnvilUrl: string;
    /** An ERC-1271 contract wallet deployed there, and its owner's key. */
    contractWallet: { address: `0x${string}`; ownerKey: `0x${string}` };
  }
}
