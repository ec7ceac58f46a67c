// Add funds. Simulated ledger: the dev faucet; chain mode answers where to deposit.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { api, call, newIdempotencyKey } from "../api/client";
import { parseUsdc, toInput } from "../lib/money";
import { ErrorNote, Field, Note, Usdc } from "./ui";

/** `action` names what follows the top-up on its button ("Add 4 USDC and send"). */
export function TopUp({
  suggested,
  action,
  onDone,
}: {
  suggested?: string;
  action?: string;
  onDone?: (balance: string) => void;
}) {
  const qc = useQueryClient();
  const [amount, setAmount] = useState(suggested ? toInput(suggested) : "10");
  const key = useRef(newIdempotencyKey());
  const parsed = parseUsdc(amount);
  const topup = useMutation({
    mutationFn: (value: string) =>
      call(
        api.POST("/v1/payments/topup", {
          body: { amount: value },
          params: { header: { "idempotency-key": key.current } },
        }),
      ),
    onSuccess: (r) => {
      key.current = newIdempotencyKey();
      qc.invalidateQueries({ queryKey: ["me"] });
      qc.invalidateQueries({ queryKey: ["ledger"] });
      onDone?.(r.balance);
    },
  });
  return (
    <form
      className="topup"
      aria-label="Top up"
      onSubmit={(e) => {
        e.preventDefault();
        if (parsed && parsed !== "0") topup.mutate(parsed);
      }}
    >
      <Field label="Amount to add (USDC)" hint="Test funds from the development faucet.">
        {(p) => (
          <input
            {...p}
            inputMode="decimal"
            value={amount}
            onChange={(e) => {
              setAmount(e.target.value);
              key.current = newIdempotencyKey();
            }}
            aria-invalid={parsed === null}
          />
        )}
      </Field>
      <button type="submit" disabled={!parsed || parsed === "0" || topup.isPending}>
        {topup.isPending
          ? "Adding…"
          : parsed
            ? `Add ${toInput(parsed)} USDC${action ? ` ${action}` : ""}`
            : "Add funds"}
      </button>
      {topup.isError ? <ErrorNote error={topup.error} /> : null}
      {topup.isSuccess ? (
        <Note kind="success">
          Added. Your balance is <Usdc value={topup.data.balance} />.
        </Note>
      ) : null}
    </form>
  );
}
