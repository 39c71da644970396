/** How amounts, counts and times read everywhere in the app. */

const usdFormat = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
});
const countFormat = new Intl.NumberFormat('en-US');
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const usd = (value: number): string => usdFormat.format(value);
export const count = (value: number): string => countFormat.format(value);
export const dateTime = (iso: string | null): string => (iso ? dateTimeFormat.format(new Date(iso)) : '—');

/** The start of today and of this month in the browser's time zone, as ISO timestamps. */
export function periodStarts(now = new Date()): { today: string; month: string } {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const month = new Date(now.getFullYear(), now.getMonth(), 1);
  return { today: today.toISOString(), month: month.toISOString() };
}
