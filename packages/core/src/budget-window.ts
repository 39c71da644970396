/**
 * Budget windows, calendar-aligned in the organisation's time zone: a day budget resets at local
 * midnight, a week budget on Monday (ISO weeks), a month budget on the 1st; `total` never resets.
 * Computed with Intl only, so any IANA zone works and daylight-saving shifts land where they do.
 */
export const budgetWindows = ['day', 'week', 'month', 'total'] as const;
export type BudgetWindow = (typeof budgetWindows)[number];

export interface WindowBounds {
  /** Epoch ms of the window's first instant; 0 for `total`. */
  start: number;
  /** Epoch ms of the next window's first instant; undefined for `total`. */
  end: number | undefined;
}

interface LocalDate {
  year: number;
  month: number; // 1-12
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether the runtime knows this IANA time zone. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of an instant in a zone. */
function localParts(
  instant: number,
  timeZone: string,
): LocalDate & { hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year as number,
    month: parts.month as number,
    day: parts.day as number,
    hour: parts.hour as number,
    minute: parts.minute as number,
    second: parts.second as number,
  };
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function offsetAt(instant: number, timeZone: string): number {
  const local = localParts(instant, timeZone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant local midnight begins on a date in a zone (two passes settle DST transitions). */
function localMidnight(date: LocalDate, timeZone: string): number {
  const naive = Date.UTC(date.year, date.month - 1, date.day);
  let instant = naive - offsetAt(naive, timeZone);
  instant = naive - offsetAt(instant, timeZone);
  return instant;
}

function addDays(date: LocalDate, days: number): LocalDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/** The bounds of the window that contains `at`. */
export function windowBounds(window: BudgetWindow, at: number, timeZone: string): WindowBounds {
  if (window === 'total') return { start: 0, end: undefined };
  const today: LocalDate = localParts(at, timeZone);
  let first: LocalDate;
  let next: LocalDate;
  if (window === 'day') {
    first = today;
    next = addDays(today, 1);
  } else if (window === 'week') {
    const weekday = new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay(); // 0 = Sunday
    first = addDays(today, -((weekday + 6) % 7));
    next = addDays(first, 7);
  } else {
    first = { year: today.year, month: today.month, day: 1 };
    next =
      today.month === 12
        ? { year: today.year + 1, month: 1, day: 1 }
        : { year: today.year, month: today.month + 1, day: 1 };
  }
  return { start: localMidnight(first, timeZone), end: localMidnight(next, timeZone) };
}

/** A budget's counter in its current window, as the hot state holds it. */
export interface BudgetCounter {
  spentUsd: number;
  /** Held for calls still in flight. */
  reservedUsd: number;
}

/** What a budget has left: neither spent nor held for calls in flight, never below 0. */
export function budgetRemainingUsd(limitUsd: number, counter: BudgetCounter): number {
  return Math.max(0, limitUsd - counter.spentUsd - counter.reservedUsd);
}
