/** How amounts, counts and times read everywhere in the app. */

const usdFormat = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
});
const countFormat = new Intl.NumberFormat('en-US');
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const smallUsdFormat = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumSignificantDigits: 2,
});

/** Dollars; a fraction of a cent keeps two significant digits, so one call's cost is not $0.00. */
export const usd = (value: number): string =>
  value !== 0 && Math.abs(value) < 0.01 ? smallUsdFormat.format(value) : usdFormat.format(value);

/** "1 request", "2 requests". */
export const plural = (value: number, noun: string): string =>
  `${countFormat.format(value)} ${noun}${value === 1 ? '' : 's'}`;
export const count = (value: number): string => countFormat.format(value);
export const dateTime = (iso: string | null): string => (iso ? dateTimeFormat.format(new Date(iso)) : '—');

/** The start of today and of this month in the browser's time zone, as ISO timestamps. */
export function periodStarts(now = new Date()): { today: string; month: string } {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const month = new Date(now.getFullYear(), now.getMonth(), 1);
  return { today: today.toISOString(), month: month.toISOString() };
}

const toolNames: Record<string, string> = {
  'claude-code': 'Claude Code',
  codex: 'Codex',
  'gemini-cli': 'Gemini CLI',
  'qwen-code': 'Qwen Code',
  opencode: 'opencode',
  cursor: 'Cursor',
};
/** A coding tool's own name ("claude-code" → "Claude Code"); a call with no known tool says so. */
export const toolName = (tool: string | null): string => (tool ? (toolNames[tool] ?? tool) : 'unknown tool');
