import type { BudgetCheck, BudgetCounterKey, RateCheck } from './types.js';

/**
 * How long a windowed counter outlives its window's start. The longest window is a calendar
 * month (31 days, plus an hour for daylight saving), so 40 days keeps a finished window readable
 * for at least nine days and then lets it go. Windows longer than a month must use `total` (0).
 */
export const COUNTER_RETENTION_MS = 40 * 24 * 60 * 60 * 1000;

/**
 * How long `settle` remembers that a reservation id was settled, so a retried settle does not
 * charge twice. A day covers any retry loop; remembering forever would grow without bound.
 */
export const SETTLED_MEMORY_MS = 24 * 60 * 60 * 1000;

/** Money is kept in integer micro-dollars: a hundred 0.01 reservations must sum to exactly 1.00. */
const MICROS_PER_USD = 1_000_000;

/** Converts at the edge; a value that cannot be an exact integer is a caller bug, so it throws. */
export function toMicros(usd: number, name: string): number {
  const micros = Math.round(usd * MICROS_PER_USD);
  if (!Number.isFinite(usd) || usd < 0 || !Number.isSafeInteger(micros)) {
    throw new RangeError(`hot state: ${name} must be a finite, non-negative amount, got ${usd}`);
  }
  return micros;
}

export function fromMicros(micros: number): number {
  return micros / MICROS_PER_USD;
}

/** When a counter may be forgotten; 0 means never (a `total` budget). */
export function counterExpiresAt(key: BudgetCounterKey): number {
  return key.windowStart === 0 ? 0 : key.windowStart + COUNTER_RETENTION_MS;
}

/** A counter's identity as one string; windowStart holds no ':', so budget ids may. */
export function counterId(key: BudgetCounterKey): string {
  return `${key.budgetId}:${key.windowStart}`;
}

function requireInteger(value: number, name: string, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new RangeError(`hot state: ${name} must be an integer >= ${minimum}, got ${value}`);
  }
}

function requireKey(key: BudgetCounterKey): void {
  if (typeof key.budgetId !== 'string' || key.budgetId === '') {
    throw new RangeError('hot state: budgetId must be a non-empty string');
  }
  requireInteger(key.windowStart, 'windowStart', 0);
}

/** A reserve call after validation, in micro-dollars; shared so both implementations refuse alike. */
export interface PreparedReserve {
  checks: { key: BudgetCounterKey; id: string; limitMicros: number; enforce: boolean }[];
  amountMicros: number;
}

export function prepareReserve(
  reservationId: string,
  checks: BudgetCheck[],
  amountUsd: number,
  ttlMs: number,
): PreparedReserve {
  if (reservationId === '') throw new RangeError('hot state: reservationId must be non-empty');
  requireInteger(ttlMs, 'ttlMs', 1);
  const seen = new Set<string>();
  const prepared = checks.map((check) => {
    requireKey(check.key);
    const id = counterId(check.key);
    // Reserving twice on one counter would double-count it; the caller built the list wrongly.
    if (seen.has(id)) throw new RangeError(`hot state: counter ${id} appears twice in one reserve`);
    seen.add(id);
    return { key: check.key, id, limitMicros: toMicros(check.limitUsd, 'limitUsd'), enforce: check.enforce };
  });
  return { checks: prepared, amountMicros: toMicros(amountUsd, 'amountUsd') };
}

/** A seed's quiet span must be a whole number of ms, at least 1. */
export function requireQuietMs(quietMs: number): void {
  requireInteger(quietMs, 'lowerIfQuietMs', 1);
}

/** Settle's counters, de-duplicated so a key listed twice is still charged once. */
export function prepareKeys(keys: BudgetCounterKey[]): BudgetCounterKey[] {
  const unique = new Map<string, BudgetCounterKey>();
  for (const key of keys) {
    requireKey(key);
    unique.set(counterId(key), key);
  }
  return [...unique.values()];
}

export function prepareRate(checks: RateCheck[]): RateCheck[] {
  const seen = new Set<string>();
  for (const check of checks) {
    if (seen.has(check.key)) throw new RangeError(`hot state: rate key ${check.key} appears twice`);
    seen.add(check.key);
    requireInteger(check.limit, 'limit', 0);
    requireInteger(check.windowMs, 'windowMs', 1);
    requireInteger(check.cost, 'cost', 0);
    // The bucket's capacity is limit * windowMs; beyond 2^53 the arithmetic stops being exact.
    if (
      !Number.isSafeInteger(check.limit * check.windowMs) ||
      !Number.isSafeInteger(check.cost * check.windowMs)
    ) {
      throw new RangeError(`hot state: rate check ${check.key} is too large to count exactly`);
    }
  }
  return checks;
}

/** The GCRA step, written once here and mirrored line by line in the Lua script. */
export function gcraStep(
  state: { level: number; updatedAt: number } | undefined,
  check: RateCheck,
  now: number,
): { ok: true; level: number } | { ok: false; retryAfterMs: number } {
  const capacity = check.limit * check.windowMs;
  const need = check.cost * check.windowMs;
  if (need > capacity) return { ok: false, retryAfterMs: check.windowMs };
  // A clock that stepped backwards never refills the bucket.
  const elapsed = state ? Math.max(0, now - state.updatedAt) : 0;
  const level = Math.max(0, (state?.level ?? 0) - elapsed * check.limit);
  if (level + need > capacity) {
    return { ok: false, retryAfterMs: Math.max(1, Math.ceil((level + need - capacity) / check.limit)) };
  }
  return { ok: true, level: level + need };
}
