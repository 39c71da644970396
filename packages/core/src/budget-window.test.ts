import { describe, expect, it } from 'vitest';
import { isValidTimeZone, windowBounds } from './budget-window.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('budget windows', () => {
  it('aligns days, weeks and months to local midnight in the organisation time zone', () => {
    // 2026-11-27 is a Friday; 03:00 UTC is still the 26th (Thursday) in New York.
    const instant = at('2026-11-27T03:00:00Z');
    expect(windowBounds('day', instant, 'UTC')).toEqual({
      start: at('2026-11-27T00:00:00Z'),
      end: at('2026-11-28T00:00:00Z'),
    });
    const newYorkDay = windowBounds('day', instant, 'America/New_York');
    expect(iso(newYorkDay.start)).toBe('2026-11-26T05:00:00.000Z');
    expect(iso(newYorkDay.end)).toBe('2026-11-27T05:00:00.000Z');
    const week = windowBounds('week', instant, 'Asia/Tokyo'); // Friday 12:00 in Tokyo
    expect(iso(week.start)).toBe('2026-11-22T15:00:00.000Z'); // Monday 00:00 JST
    expect(iso(week.end)).toBe('2026-11-29T15:00:00.000Z');
    const month = windowBounds('month', instant, 'Europe/Lisbon');
    expect(iso(month.start)).toBe('2026-11-01T00:00:00.000Z');
    expect(iso(month.end)).toBe('2026-12-01T00:00:00.000Z');
  });

  it('rolls over at the boundary: the last millisecond belongs to the old window, the next to the new', () => {
    const boundary = at('2026-12-01T00:00:00Z');
    expect(windowBounds('month', boundary - 1, 'UTC').end).toBe(boundary);
    expect(windowBounds('month', boundary, 'UTC').start).toBe(boundary);
    expect(windowBounds('month', at('2026-12-15T00:00:00Z'), 'UTC').end).toBe(at('2027-01-01T00:00:00Z'));
  });

  it('follows daylight saving: a day can be 23 or 25 hours long', () => {
    // Europe/Berlin springs forward on 2026-03-29 and falls back on 2026-10-25.
    const spring = windowBounds('day', at('2026-03-29T12:00:00Z'), 'Europe/Berlin');
    expect(((spring.end ?? 0) - spring.start) / 3_600_000).toBe(23);
    const autumn = windowBounds('day', at('2026-10-25T12:00:00Z'), 'Europe/Berlin');
    expect(((autumn.end ?? 0) - autumn.start) / 3_600_000).toBe(25);
    expect(iso(autumn.start)).toBe('2026-10-24T22:00:00.000Z');
  });

  it('never resets a total window, and knows which zones exist', () => {
    expect(windowBounds('total', Date.now(), 'UTC')).toEqual({ start: 0, end: undefined });
    expect(isValidTimeZone('Asia/Kolkata')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});
