/**
 * Decimal places of every US dollar amount in admin answers. Sums of doubles carry noise
 * (0.0003933000000000001); rounding once, here, gives the amount people expect. Nine places
 * (nano-dollars) rather than six: one cheap call costs fractions of a micro-dollar, and its cost
 * must come back as metered (0.0003933, not 0.000393).
 */
const USD_DECIMALS = 9;

export function roundUsd(amount: number): number {
  return Number(amount.toFixed(USD_DECIMALS));
}
