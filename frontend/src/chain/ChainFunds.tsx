// Chain mode money moves, done by the user's own wallet: deposit into the vault
// (approve + deposit) and withdraw from it. The server only mirrors the vault: a
// deposit shows as pending until the indexer has seen it CONFIRMATIONS blocks deep.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { meQuery } from "../api/queries";
import { useWallets } from "../auth/wallets";
import { ErrorNote, Field, Note, Usdc } from "../components/ui";
import { parseUsdc, toInput } from "../lib/money";
import { useVault } from "./vault";

const chain = () => import("./wallet-chain");

export function ChainFunds({ kind, linked }: { kind: "deposit" | "withdraw"; linked: string | null }) {
  const vault = useVault();
  const wallets = useWallets();
  const qc = useQueryClient();
  const [amount, setAmount] = useState(kind === "deposit" ? "10" : "");
  const [baseline, setBaseline] = useState<string | null>(null);
  const parsed = parseUsdc(amount);
  const me = useQuery({ ...meQuery, refetchInterval: baseline !== null ? 2_000 : false });
  const move = useMutation({
    mutationFn: async (value: bigint) => {
      const provider = wallets[0]?.provider;
      if (!provider) throw new Error("No browser wallet found. Install one (e.g. MetaMask) to move USDC.");
      if (!vault.data) throw new Error("The vault is not configured.");
      const c = await chain();
      setBaseline(me.data?.balance ?? "0");
      return kind === "deposit"
        ? c.depositToVault(provider, linked, vault.data, value)
        : c.withdrawFromVault(provider, linked, vault.data, value);
    },
    onSettled: () => qc.invalidateQueries({ queryKey: ["ledger"] }),
  });
  const confirmed = baseline !== null && me.data !== undefined && me.data.balance !== baseline;
  if (confirmed) qc.invalidateQueries({ queryKey: ["ledger"] });
  const verb = kind === "deposit" ? "Deposit" : "Withdraw";
  return (
    <form
      className="topup"
      aria-label={`${verb} on chain`}
      onSubmit={(e) => {
        e.preventDefault();
        if (parsed && parsed !== "0") move.mutate(BigInt(parsed));
      }}
    >
      <Field
        label={`Amount to ${kind} (USDC)`}
        hint={
          kind === "deposit"
            ? "Your wallet approves the vault, then deposits. Funds count once the chain has confirmed them."
            : "Your wallet withdraws from the vault to itself."
        }
      >
        {(p) => (
          <input
            {...p}
            inputMode="decimal"
            value={amount}
            onChange={(e) => {
              setAmount(e.target.value);
              setBaseline(null);
            }}
            aria-invalid={amount !== "" && parsed === null}
          />
        )}
      </Field>
      <button type="submit" disabled={!parsed || parsed === "0" || move.isPending}>
        {move.isPending ? "Waiting for your wallet…" : parsed ? `${verb} ${toInput(parsed)} USDC` : verb}
      </button>
      {move.isError ? <ErrorNote error={move.error} /> : null}
      {move.isSuccess && !confirmed ? (
        <Note kind="info">
          Sent ({move.data.slice(0, 10)}…). Pending: waiting for {vault.data?.confirmations ?? "a few"} confirmations.
        </Note>
      ) : null}
      {confirmed && me.data ? (
        <Note kind="success">
          Confirmed. You can spend <Usdc value={me.data.balance} />.
        </Note>
      ) : null}
    </form>
  );
}
