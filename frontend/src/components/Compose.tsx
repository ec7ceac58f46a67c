// Compose and pay. The button shows the exact total; `maxPrice` is the price on
// it, so the price can never change under the user (a change comes back as
// price_above_max and is shown for a fresh confirmation). One Idempotency-Key per
// draft makes double clicks and retries safe. The draft survives every error,
// an inline top-up and a sign-in.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useEffect, useId, useRef, useState } from "react";
import { Link } from "wouter";
import { api, call, newIdempotencyKey } from "../api/client";
import { ApiError, errorCode } from "../api/errors";
import type { Pricing, Quote, SendReceipt } from "../api/types";
import { useSession } from "../auth/session";
import { useWallets } from "../auth/wallets";
import { useVault } from "../chain/vault";
import { formatUsdc, topUpFor } from "../lib/money";
import { dateTime } from "../lib/time";
import { SignInPanel } from "./SignInPanel";
import { TopUp } from "./TopUp";
import { ErrorNote, Note, Usdc } from "./ui";

const MAX_CHARS = 8000;

/** `to` is who gets paid: the handle, or for a reply the original sender's id (the intent names them). */
type Target = { kind: "send"; to: string } | { kind: "reply"; messageId: string; to: string };

export interface ComposeProps {
  target: Target;
  /** "@alice" — who this goes to, for the labels. */
  name: string;
  quote: Quote | undefined;
  pricing: Pricing;
  refetchQuote: () => Promise<unknown>;
  /** sessionStorage key: the draft outlives a reload or an OAuth round trip. */
  draftKey: string;
  /** Replaces the price line (e.g. "your reply releases $1"). */
  priceNote?: ReactNode;
  /** Told when the receipt shows (and null when the user writes another), so the page can drop its price card. */
  onReceipt?: (receipt: SendReceipt | null) => void;
}

const REASONS: Record<Quote["reason"], string> = {
  first_contact: "first message price",
  default: "standard price",
  return_discount: "returning-contact price",
  allowlist: "your personal discount",
};

export function Compose({ target, name, quote, pricing, refetchQuote, draftKey, priceNote, onReceipt }: ComposeProps) {
  const session = useSession();
  const qc = useQueryClient();
  const id = useId();
  const [body, setBody] = useState(() => sessionStorage.getItem(draftKey) ?? "");
  const key = useRef(newIdempotencyKey());
  const [signingIn, setSigningIn] = useState(false);
  const [priceChange, setPriceChange] = useState<{ from: string; to: string } | null>(null);
  /** insufficient_balance: what this message costs and what the balance holds (one panel says both). */
  const [shortfall, setShortfall] = useState<{ required: bigint; balance: bigint; maxPrice: string } | null>(null);
  const [receipt, setReceipt] = useState<SendReceipt | null>(null);
  const [nextPriceFresh, setNextPriceFresh] = useState(false);
  const signedIn = session.status === "signed-in";

  useEffect(() => {
    if (body) sessionStorage.setItem(draftKey, body);
    else sessionStorage.removeItem(draftKey);
  }, [body, draftKey]);

  const vault = useVault();
  const wallets = useWallets();
  const send = useMutation({
    mutationFn: async ({ maxPrice }: { maxPrice: string }) => {
      const params = { header: { "idempotency-key": key.current } };
      // Chain mode: the wallet signs the payment the server describes (an EIP-712 intent), for
      // sends and replies alike. A free message needs no signature (the vault refuses zero amounts).
      if (vault.data && BigInt(maxPrice) > 0n) {
        const provider = wallets[0]?.provider;
        if (!provider)
          throw new ApiError(0, "no_wallet", "Paying on chain needs a browser wallet to sign the payment.");
        const { payBySigning } = await import("../chain/wallet-chain");
        return payBySigning(provider, null, {
          to: target.to,
          body,
          maxPrice,
          idempotencyKey: key.current,
          replyTo: target.kind === "reply" ? target.messageId : undefined,
        });
      }
      if (target.kind === "send") {
        return call(api.POST("/v1/messages", { params, body: { to: target.to, body, maxPrice } }));
      }
      return call(
        api.POST("/v1/inbox/{messageId}/reply", {
          params: { ...params, path: { messageId: target.messageId } },
          body: { body, maxPrice },
        }),
      );
    },
    onMutate: () => {
      setPriceChange(null);
      setShortfall(null);
    },
    onSuccess: (r) => {
      setReceipt(r);
      onReceipt?.(r);
      // The next message's price may differ (no longer a first contact): say it only once asked again.
      setNextPriceFresh(false);
      refetchQuote().finally(() => setNextPriceFresh(true));
      setBody("");
      sessionStorage.removeItem(draftKey);
      key.current = newIdempotencyKey();
      for (const k of ["me", "outbox", "inbox", "ledger", "recipient"]) qc.invalidateQueries({ queryKey: [k] });
    },
    onError: (err, { maxPrice }) => {
      setShortfall(null);
      if (!(err instanceof ApiError)) return;
      if (err.code === "price_above_max") {
        setPriceChange({ from: maxPrice, to: String(err.details.price ?? "") });
        refetchQuote();
      }
      if (err.code === "insufficient_balance") {
        const required = BigInt(String(err.details.required ?? "0"));
        const balance = BigInt(String(err.details.balance ?? "0"));
        setShortfall({ required, balance, maxPrice });
      }
    },
  });

  if (receipt) {
    return (
      <Receipt
        receipt={receipt}
        name={name}
        pricing={pricing}
        next={signedIn && !priceNote && nextPriceFresh ? quote : undefined}
        onAnother={() => {
          setReceipt(null);
          onReceipt?.(null);
        }}
      />
    );
  }

  const chars = [...body].length;
  const tooLong = chars > MAX_CHARS;
  const canSend = signedIn && quote && body.trim().length > 0 && !tooLong && !send.isPending;
  const code = errorCode(send.error);

  return (
    <section className="card compose" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{target.kind === "send" ? `Message ${name}` : `Reply to ${name}`}</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (canSend) send.mutate({ maxPrice: quote.price });
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-body`}>Your message</label>
          <textarea
            id={`${id}-body`}
            rows={6}
            value={body}
            onChange={(e) => setBody(e.target.value)}
            aria-describedby={`${id}-count`}
            aria-invalid={tooLong}
            placeholder={`Write to ${name}…`}
          />
          <p className={`hint ${tooLong ? "bad" : ""}`} id={`${id}-count`}>
            {chars.toLocaleString()} / {MAX_CHARS.toLocaleString()} characters
          </p>
        </div>
        {priceNote}
        {signedIn && quote && !priceNote ? (
          <p className="quote" aria-live="polite">
            <Usdc value={quote.price} /> ({REASONS[quote.reason]}) + <Usdc value={quote.fee} /> fee ={" "}
            <strong>
              <Usdc value={quote.total} />
            </strong>
          </p>
        ) : null}
        {priceChange ? (
          <Note kind="warn">
            The price changed from {formatUsdc(priceChange.from)} to{" "}
            {priceChange.to ? formatUsdc(priceChange.to) : "a new price"} since you saw it. Nothing was charged. Check
            the new total and send again if you still want to.
          </Note>
        ) : null}
        {signedIn ? (
          <button type="submit" className="pay" disabled={!canSend} aria-busy={send.isPending}>
            {send.isPending
              ? "Sending…"
              : !quote
                ? "Getting the price…"
                : quote.total === "0"
                  ? "Send for free"
                  : `Pay ${formatUsdc(quote.total)} and send`}
          </button>
        ) : (
          <button type="button" className="pay" onClick={() => setSigningIn(true)} disabled={signingIn}>
            Sign in to send
          </button>
        )}
      </form>
      {/* A low balance is one state, not an error box plus a panel: what is missing and the top-up that fixes it. */}
      {send.isError && code !== "price_above_max" && code !== "insufficient_balance" ? (
        <ErrorNote error={send.error} />
      ) : null}
      {shortfall !== null && !send.isPending ? (
        <ShortfallPanel
          {...shortfall}
          onToppedUp={() => {
            // The user already chose to pay this total: the send goes on with the same draft and price cap.
            send.mutate({ maxPrice: shortfall.maxPrice });
          }}
        />
      ) : null}
      {!signedIn && signingIn ? (
        <SignInPanel heading="Sign in to send your message" onSignedIn={() => setSigningIn(false)} />
      ) : null}
    </section>
  );
}

/** Not enough money: how much is missing, and a top-up that sends the message once it lands. */
function ShortfallPanel({
  required,
  balance,
  onToppedUp,
}: {
  required: bigint;
  balance: bigint;
  onToppedUp: () => void;
}) {
  const missing = required > balance ? required - balance : 1n;
  return (
    <div className="inline-panel" role="alert" aria-labelledby="shortfall-h">
      <h3 id="shortfall-h">Top up to send</h3>
      <p data-testid="shortfall">
        This message costs {formatUsdc(required)} and your balance is {formatUsdc(balance)}: you need{" "}
        <strong>{formatUsdc(missing)}</strong> more. Your message stays as it is and goes out once the funds are in.
      </p>
      <TopUp suggested={topUpFor(missing)} action="and send" onDone={onToppedUp} />
    </div>
  );
}

/**
 * What this message cost, and nothing else: the price of a next message (which
 * may differ, e.g. no longer a first contact) is said apart, in its own words.
 */
function Receipt({
  receipt,
  name,
  pricing,
  next,
  onAnother,
}: {
  receipt: SendReceipt;
  name: string;
  pricing: Pricing;
  next: Quote | undefined;
  onAnother: () => void;
}) {
  const replyBy = Date.parse(receipt.createdAt) + pricing.replyWindowHours * 3_600_000;
  const free = receipt.total === "0";
  return (
    <section className="card receipt" aria-live="polite">
      <h2>
        {receipt.status === "escrowed"
          ? "Delivered — payment held"
          : receipt.status === "accepted"
            ? "Sent — settling"
            : "Delivered"}
      </h2>
      <p>
        {receipt.status === "accepted" ? "Your message is on its way to " : ""}
        {receipt.status === "accepted" ? name : `${name} has your message`}.{free ? " It was free." : ""}
      </p>
      {free ? null : (
        <dl className="price-table paid" aria-label="What you paid for this message">
          <div>
            <dt>{receipt.status === "escrowed" ? "Held until they reply" : "Price"}</dt>
            <dd>
              <Usdc value={receipt.price} />
            </dd>
          </div>
          <div>
            <dt>{receipt.status === "escrowed" ? "Fee (final)" : "Fee"}</dt>
            <dd>
              <Usdc value={receipt.fee} />
            </dd>
          </div>
          <div className="total">
            <dt>{receipt.status === "accepted" ? "Settling on chain" : "You paid"}</dt>
            <dd>
              <Usdc value={receipt.total} />
            </dd>
          </div>
        </dl>
      )}
      {receipt.status === "escrowed" ? (
        <p>
          If {name} doesn't reply by {dateTime(replyBy)}, the <Usdc value={receipt.price} /> comes back to you.
        </p>
      ) : null}
      <p className="actions">
        <button type="button" className="secondary" onClick={onAnother}>
          Write another message
        </button>
        <Link href="/outbox">See your sent messages</Link>
      </p>
      {next ? (
        <p className="hint" data-testid="next-price">
          A next message to {name} would cost <Usdc value={next.total} /> ({REASONS[next.reason]} plus fee).
        </p>
      ) : null}
    </section>
  );
}
