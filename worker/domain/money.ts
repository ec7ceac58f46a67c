// Money is bigint base units (USDC, 6 decimals). On the wire: decimal strings.
export const BPS = 10_000n;

export function fee(price: bigint, feeBps: bigint): bigint {
  return (price * feeBps) / BPS;
}

/** `amount` less `bps` of it, the discount rounded down (so the price rounds up). */
export function discounted(amount: bigint, bps: number): bigint {
  return amount - (amount * BigInt(bps)) / BPS;
}
