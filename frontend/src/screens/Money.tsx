// Money: balance and held funds, top-up, withdraw, earnings over time, and the
// ledger (every balance change, newest first).
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useMemo, useRef, useState } from "react";
import { api, call, newIdempotencyKey } from "../api/client";
import { ledgerQuery, useMe } from "../api/queries";
import type { LedgerEntry } from "../api/types";
import { ChainFunds } from "../chain/ChainFunds";
import { useVault } from "../chain/vault";
import type { EarningPoint } from "../components/EarningsChart";
import { LoadMore } from "../components/LoadMore";
import { TopUp } from "../components/TopUp";
import { Empty, ErrorNote, Field, Loading, Note, PageHeader, Usdc } from "../components/ui";
import { parseUsdc, toInput } from "../lib/money";
import { shortDateTime } from "../lib/time";

const EarningsChart = lazy(() => import("../components/EarningsChart"));

const KIND: Record<string, { label: string; sign: 1 | -1 }> = {
  topup: { label: "Top-up", sign: 1 },
  deposit: { label: "Deposit", sign: 1 },
  receive: { label: "Message received", sign: 1 },
  release: { label: "Paid on reply", sign: 1 },
  refund: { label: "Refund", sign: 1 },
  send: { label: "Message sent", sign: -1 },
  fee: { label: "Fee", sign: -1 },
  hold: { label: "Held", sign: -1 },
  withdraw: { label: "Withdrawal", sign: -1 },
};
const EARNING = new Set(["receive", "release"]);

export default function Money() {
  const me = useMe();
  const vault = useVault();
  const ledger = useInfiniteQuery(ledgerQuery);
  useEffect(() => {
    document.title = "Money · Paid Inbox";
  }, []);
  const entries = useMemo(() => ledger.data?.pages.flatMap((p) => p.entries) ?? [], [ledger.data]);
  const points = useMemo(() => earnings(entries), [entries]);
  return (
    <div>
      <PageHeader title="Money" />
      {me.isPending ? <Loading /> : null}
      {me.isError ? <ErrorNote error={me.error} retry={() => me.refetch()} /> : null}
      {me.data ? (
        <div className="grid-2">
          <section className="card stat" aria-label="Balance">
            <h2>Available</h2>
            <p className="big" data-testid="balance">
              <Usdc value={me.data.balance} />
            </p>
          </section>
          <section className="card stat" aria-label="Held">
            <h2>Held</h2>
            <p className="big">
              <Usdc value={me.data.held} />
            </p>
            <p className="hint">Payments waiting for your reply, or sends still settling.</p>
          </section>
        </div>
      ) : null}
      <div className="grid-2">
        <section className="card" aria-labelledby="topup-h">
          <h2 id="topup-h">Add funds</h2>
          {vault.data ? <ChainFunds kind="deposit" linked={me.data?.user?.walletAddress ?? null} /> : <TopUp />}
        </section>
        <section className="card" aria-labelledby="withdraw-h">
          <h2 id="withdraw-h">Withdraw</h2>
          {vault.data ? (
            <ChainFunds kind="withdraw" linked={me.data?.user?.walletAddress ?? null} />
          ) : (
            <Withdraw available={me.data?.balance} />
          )}
        </section>
      </div>
      <section className="card" aria-labelledby="earn-h">
        <h2 id="earn-h">Earnings</h2>
        {points.length === 0 ? (
          <p className="muted">Your earnings chart appears once people have paid you.</p>
        ) : (
          <Suspense fallback={<Loading label="Drawing the chart…" />}>
            <EarningsChart points={points} />
          </Suspense>
        )}
      </section>
      <section className="card" aria-labelledby="ledger-h">
        <h2 id="ledger-h">History</h2>
        {ledger.isPending ? <Loading label="Loading history…" /> : null}
        {ledger.isError ? <ErrorNote error={ledger.error} retry={() => ledger.refetch()} /> : null}
        {ledger.isSuccess && entries.length === 0 ? (
          <Empty title="Nothing here yet">Top up to get started.</Empty>
        ) : null}
        {entries.length > 0 ? (
          <table className="ledger">
            <caption className="sr-only">Balance changes, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col" className="num">
                  Balance after
                </th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e, i) => {
                const older = entries[i + 1];
                // The balance change is exact from consecutive balances; only the oldest loaded
                // row of an unfinished history falls back to the kind's direction.
                const before = older ? older.balanceAfter : ledger.hasNextPage ? null : "0";
                const k = KIND[e.kind] ?? { label: e.kind, sign: 1 };
                const delta =
                  before === null ? BigInt(e.amount) * BigInt(k.sign) : BigInt(e.balanceAfter) - BigInt(before);
                return (
                  <tr key={e.id}>
                    <td>{shortDateTime(e.createdAt)}</td>
                    <td>
                      {delta === 0n && e.kind === "refund" ? "Returned to the sender" : k.label}
                      {delta === 0n ? (
                        <span className="muted">
                          {" "}
                          {/* Moves between held and paid out; a recipient's hold is money coming in, not going. */}
                          (<Usdc value={e.amount} /> {e.kind === "hold" ? "held until you reply" : "from held"})
                        </span>
                      ) : null}
                    </td>
                    <td className={`num ${delta > 0n ? "plus" : delta < 0n ? "minus" : ""}`}>
                      {delta === 0n ? "—" : <Usdc value={delta} sign={delta > 0n} />}
                    </td>
                    <td className="num">
                      <Usdc value={e.balanceAfter} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : null}
        <LoadMore
          hasNext={ledger.hasNextPage}
          loading={ledger.isFetchingNextPage}
          onLoad={() => ledger.fetchNextPage()}
        />
      </section>
    </div>
  );
}

/** Cumulative earnings (received + released) in time order, from the loaded ledger. */
function earnings(entries: LedgerEntry[]): EarningPoint[] {
  let sum = 0n;
  const points: EarningPoint[] = [];
  for (const e of [...entries].reverse()) {
    if (!EARNING.has(e.kind)) continue;
    const at = Date.parse(e.createdAt);
    // A running total moves in steps: flat until the moment a payment lands.
    points.push({ at: at - 1, cumulative: sum });
    sum += BigInt(e.amount);
    points.push({ at, cumulative: sum });
  }
  if (points.length === 0) return points;
  // Start from zero a little before the first earning (a quarter of the span, at least a
  // minute, so recent steps are not squeezed into the chart's last pixels), and carry the
  // total to now.
  const now = Date.now();
  const lead = Math.max((now - points[0].at) / 4, 60_000);
  points.unshift({ at: points[0].at - lead, cumulative: 0n });
  points.push({ at: now, cumulative: sum });
  return points;
}

function Withdraw({ available }: { available?: string }) {
  const qc = useQueryClient();
  const [amount, setAmount] = useState("");
  const [to, setTo] = useState("");
  const key = useRef(newIdempotencyKey());
  const parsed = parseUsdc(amount);
  const withdraw = useMutation({
    mutationFn: () =>
      call(
        api.POST("/v1/payments/withdraw", {
          body: { amount: parsed as string, ...(to.trim() ? { to: to.trim() } : {}) },
          params: { header: { "idempotency-key": key.current } },
        }),
      ),
    onSuccess: () => {
      key.current = newIdempotencyKey();
      setAmount("");
      qc.invalidateQueries({ queryKey: ["me"] });
      qc.invalidateQueries({ queryKey: ["ledger"] });
    },
  });
  const reset = () => {
    key.current = newIdempotencyKey();
  };
  return (
    <form
      className="stack"
      aria-label="Withdraw"
      onSubmit={(e) => {
        e.preventDefault();
        if (parsed && parsed !== "0") withdraw.mutate();
      }}
    >
      <Field label="Amount (USDC)" hint={available ? <>Up to {toInput(available)} USDC available.</> : undefined}>
        {(p) => (
          <input
            {...p}
            inputMode="decimal"
            value={amount}
            onChange={(e) => {
              setAmount(e.target.value);
              reset();
            }}
          />
        )}
      </Field>
      <Field label="To address (optional)" hint="An Ethereum address; leave empty for your sign-in wallet.">
        {(p) => (
          <input
            {...p}
            value={to}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => {
              setTo(e.target.value);
              reset();
            }}
            placeholder="0x…"
          />
        )}
      </Field>
      <button type="submit" className="secondary" disabled={!parsed || parsed === "0" || withdraw.isPending}>
        {withdraw.isPending ? "Withdrawing…" : "Withdraw"}
      </button>
      {withdraw.isError ? <ErrorNote error={withdraw.error} /> : null}
      {withdraw.isSuccess ? (
        <Note kind="success">
          Withdrawal {withdraw.data.status}. Balance: <Usdc value={withdraw.data.balance} />.
        </Note>
      ) : null}
    </form>
  );
}
