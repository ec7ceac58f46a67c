// What senders pay you: default and first-contact prices, a discount for people
// you've written to, and whether you're paid at once or only when you reply.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, call } from "../api/client";
import type { Pricing } from "../api/types";
import { parseUsdc, toInput } from "../lib/money";
import { useStickyState } from "../lib/sticky";
import { ErrorNote, Field, Note, Unsaved } from "./ui";

export function PricingForm({
  pricing,
  onSaved,
  submitLabel = "Save prices",
}: {
  pricing: Pricing;
  onSaved?: () => void;
  submitLabel?: string;
}) {
  const qc = useQueryClient();
  // Unsaved edits survive being sent to sign in and back (lib/sticky.ts).
  const form = useStickyState("pricing", {
    defaultPrice: toInput(pricing.defaultPrice),
    firstPrice: toInput(pricing.firstContactPrice),
    discount: String(pricing.returnDiscountBps / 100),
    settlement: pricing.settlement,
    hours: String(pricing.replyWindowHours),
  });
  const { defaultPrice, firstPrice, discount, settlement, hours } = form.value;
  const setDefault = (v: string) => form.set({ defaultPrice: v });
  const setFirst = (v: string) => form.set({ firstPrice: v });
  const setDiscount = (v: string) => form.set({ discount: v });
  const setSettlement = (v: Pricing["settlement"]) => form.set({ settlement: v });
  const setHours = (v: string) => form.set({ hours: v });
  const d = parseUsdc(defaultPrice);
  const f = parseUsdc(firstPrice);
  const pct = Number(discount);
  const h = Number(hours);
  const valid =
    d !== null &&
    f !== null &&
    Number.isFinite(pct) &&
    pct >= 0 &&
    pct <= 100 &&
    Number.isInteger(h) &&
    h >= 1 &&
    h <= 720;
  const save = useMutation({
    mutationFn: () =>
      call(
        api.PUT("/v1/me/pricing", {
          body: {
            defaultPrice: d as string,
            firstContactPrice: f as string,
            returnDiscountBps: Math.round(pct * 100),
            settlement,
            replyWindowHours: h,
          },
        }),
      ),
    onSuccess: () => {
      form.clear();
      qc.invalidateQueries({ queryKey: ["me"] });
      onSaved?.();
    },
  });
  return (
    <form
      className="stack"
      aria-label="Pricing"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) save.mutate();
      }}
    >
      <div className="grid-2">
        <Field label="Price per message (USDC)" hint="What someone you've heard from before pays.">
          {(p) => (
            <input
              {...p}
              inputMode="decimal"
              value={defaultPrice}
              onChange={(e) => setDefault(e.target.value)}
              aria-invalid={d === null}
            />
          )}
        </Field>
        <Field label="First message price (USDC)" hint="What a stranger pays to reach you the first time.">
          {(p) => (
            <input
              {...p}
              inputMode="decimal"
              value={firstPrice}
              onChange={(e) => setFirst(e.target.value)}
              aria-invalid={f === null}
            />
          )}
        </Field>
      </div>
      <Field label="Discount for people you've written to (%)" hint="0–100. Applies once you've sent them a message.">
        {(p) => <input {...p} inputMode="decimal" value={discount} onChange={(e) => setDiscount(e.target.value)} />}
      </Field>
      <fieldset>
        <legend>When you get paid</legend>
        <label className="choice">
          <input
            type="radio"
            name="settlement"
            checked={settlement === "instant"}
            onChange={() => setSettlement("instant")}
          />
          <span>
            <strong>Right away</strong> — the price is yours when the message arrives.
          </span>
        </label>
        <label className="choice">
          <input
            type="radio"
            name="settlement"
            checked={settlement === "on_reply"}
            onChange={() => setSettlement("on_reply")}
          />
          <span>
            <strong>When I reply</strong> — the price is held, paid to you when you reply, refunded if you don't.
          </span>
        </label>
      </fieldset>
      {settlement === "on_reply" ? (
        <Field label="Reply window (hours)" hint="1–720. After this the sender gets their money back.">
          {(p) => <input {...p} inputMode="numeric" value={hours} onChange={(e) => setHours(e.target.value)} />}
        </Field>
      ) : null}
      {form.restored ? <Unsaved onDiscard={form.discard} /> : null}
      <button type="submit" disabled={!valid || save.isPending}>
        {save.isPending ? "Saving…" : submitLabel}
      </button>
      {save.isError ? <ErrorNote error={save.error} /> : null}
      {save.isSuccess ? <Note kind="success">Prices saved.</Note> : null}
    </form>
  );
}
