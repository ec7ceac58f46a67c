// The transaction that paid a message: a block-explorer link where the chain has one.
import { useVault } from "./vault";

function txUrl(chainId: number, hash: string): string | null {
  if (chainId === 8453) return `https://basescan.org/tx/${hash}`;
  if (chainId === 84532) return `https://sepolia.basescan.org/tx/${hash}`;
  return null;
}

export function TxLink({ hash }: { hash: string }) {
  const vault = useVault();
  const url = vault.data ? txUrl(vault.data.chainId, hash) : null;
  const label = `tx ${hash.slice(0, 8)}…${hash.slice(-4)}`;
  return url ? (
    <a href={url} target="_blank" rel="noreferrer" className="tx-link">
      {label}
    </a>
  ) : (
    <code className="tx-link" title={hash}>
      {label}
    </code>
  );
}
