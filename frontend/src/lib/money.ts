// USDC amounts: base units (6 decimals) as decimal strings on the wire, bigint in
// code, never a float. Shown as dollars with 2–6 decimals.
const DECIMALS = 6;
const UNIT = 10n ** BigInt(DECIMALS);

/** "2500000" → "$2.50"; "1" → "$0.000001". */
export function formatUsdc(baseUnits: string | bigint, { sign = false } = {}): string {
  const v = BigInt(baseUnits);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const whole = abs / UNIT;
  let frac = (abs % UNIT).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  if (frac.length < 2) frac = frac.padEnd(2, "0");
  const prefix = neg ? "−" : sign ? "+" : "";
  return `${prefix}$${whole.toLocaleString("en-US")}.${frac}`;
}

/** "2.5" or "$2.50" → "2500000"; null if it is not an amount (at most 6 decimals). */
export function parseUsdc(input: string): string | null {
  const s = input.trim().replace(/^\$/, "").replace(/,/g, "");
  const m = s.match(/^(\d{1,12})(?:\.(\d{0,6}))?$|^\.(\d{1,6})$/);
  if (!m) return null;
  const whole = m[1] ?? "0";
  const frac = (m[2] ?? m[3] ?? "").padEnd(DECIMALS, "0");
  return (BigInt(whole) * UNIT + BigInt(frac)).toString();
}

/** Base units → the plain decimal a form field shows ("2500000" → "2.5"). */
export function toInput(baseUnits: string): string {
  const v = BigInt(baseUnits);
  const frac = (v % UNIT).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  return frac ? `${v / UNIT}.${frac}` : `${v / UNIT}`;
}

/** Smallest whole-dollar top-up that covers `shortfall` base units (at least $1). */
export function topUpFor(shortfall: bigint): string {
  const dollars = (shortfall + UNIT - 1n) / UNIT;
  return (dollars < 1n ? UNIT : dollars * UNIT).toString();
}
