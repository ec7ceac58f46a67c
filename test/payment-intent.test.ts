// The pure rules of chain payments: which nonce comes next, and which signed
// fields the server accepts (worker/domain/payment-intent.ts).
import { describe, expect, it } from "vitest";
import {
  checkPayment,
  contentHashOf,
  MIN_DEADLINE_LEFT_SECONDS,
  nextNonce,
  type PaymentMessage,
} from "../worker/domain/payment-intent";

describe("nextNonce", () => {
  it("follows the chain's nonce and the run of accepted payments after it", () => {
    expect(nextNonce(0n, [])).toBe(0n);
    expect(nextNonce(5n, [5n, 6n])).toBe(7n);
    expect(nextNonce(5n, [6n, 5n, 7n])).toBe(8n);
  });

  it("is not pushed up by payments beyond a gap (they cannot settle) or below the chain's nonce", () => {
    expect(nextNonce(5n, [7n, 8n])).toBe(5n);
    expect(nextNonce(5n, [3n, 4n])).toBe(5n);
  });
});

describe("checkPayment", () => {
  const now = 1_800_000_000;
  const payer = "0x1111111111111111111111111111111111111111";
  const recipient = "0x2222222222222222222222222222222222222222";
  const messageId = `0x${"ab".repeat(32)}` as const;
  const base: PaymentMessage = {
    payer,
    recipient,
    messageId,
    contentHash: contentHashOf("hello"),
    amount: "1000000",
    nonce: "3",
    deadline: `${now + 3600}`,
  };
  const expect0 = {
    payer,
    recipient,
    messageId,
    body: "hello",
    amount: 1_000_000n,
    nonce: 3n,
    nowSeconds: now,
  } as const;

  it("accepts exactly the payment the server would issue now (addresses in any case)", () => {
    expect(checkPayment({ ...base, payer: payer.toUpperCase().replace("0X", "0x") as never }, expect0)).toBeNull();
  });

  it("names the field that differs", () => {
    expect(checkPayment({ ...base, recipient: payer }, expect0)).toEqual({
      code: "intent_mismatch",
      field: "recipient",
    });
    expect(checkPayment({ ...base, contentHash: contentHashOf("hell0") }, expect0)).toEqual({
      code: "intent_mismatch",
      field: "contentHash",
    });
    expect(checkPayment({ ...base, amount: "999999" }, expect0)).toEqual({ code: "intent_mismatch", field: "amount" });
    expect(checkPayment({ ...base, deadline: `${now + 10 * 86_400}` }, expect0)).toEqual({
      code: "intent_mismatch",
      field: "deadline",
    });
  });

  it("refuses a deadline too close for the relayer, and a nonce another payment took", () => {
    expect(checkPayment({ ...base, deadline: `${now + MIN_DEADLINE_LEFT_SECONDS - 1}` }, expect0)).toEqual({
      code: "intent_expired",
    });
    expect(checkPayment(base, { ...expect0, nonce: 4n })).toEqual({ code: "intent_stale", nonce: "4" });
  });
});
