// EIP-6963: injected wallets announce themselves; we ask once and keep listening.
// Tiny on purpose — viem is only loaded (auth/wallet-sign-in.ts) when one is used.
import { useSyncExternalStore } from "react";

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
}

export interface WalletInfo {
  uuid: string;
  name: string;
  rdns: string;
  provider: Eip1193Provider;
}

type AnnounceEvent = CustomEvent<{ info: { uuid: string; name: string; rdns: string }; provider: Eip1193Provider }>;

let wallets: WalletInfo[] = [];
const listeners = new Set<() => void>();
let started = false;

function start() {
  if (started || typeof window === "undefined") return;
  started = true;
  window.addEventListener("eip6963:announceProvider", (e) => {
    const { info, provider } = (e as AnnounceEvent).detail;
    if (wallets.some((w) => w.uuid === info.uuid)) return;
    wallets = [...wallets, { uuid: info.uuid, name: info.name, rdns: info.rdns, provider }];
    for (const l of listeners) l();
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  // A wallet that predates EIP-6963 only sets window.ethereum.
  const legacy = (window as unknown as { ethereum?: Eip1193Provider }).ethereum;
  setTimeout(() => {
    if (legacy && wallets.length === 0) {
      wallets = [{ uuid: "legacy", name: "Browser wallet", rdns: "legacy", provider: legacy }];
      for (const l of listeners) l();
    }
  }, 200);
}

export function useWallets(): WalletInfo[] {
  start();
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => wallets,
  );
}
