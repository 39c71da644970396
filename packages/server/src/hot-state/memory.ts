import {
  counterExpiresAt,
  counterId,
  fromMicros,
  gcraStep,
  prepareKeys,
  prepareRate,
  prepareReserve,
  requireQuietMs,
  SETTLED_MEMORY_MS,
  toMicros,
} from './shared.js';
import type { BudgetCounter, BudgetCounterKey, HotState, RateResult, ReserveResult } from './types.js';

interface Counter {
  expiresAt: number;
  spentMicros: number;
  /** Set only by seedSpent: a counter made by settles alone does not know the window's spend. */
  seeded: boolean;
  /** When a settle last charged it; a seed may lower spent only after a quiet spell. */
  lastSettledAt: number;
  /** Live reservations on this counter: id → amount and expiry, so expiry needs no other lookup. */
  reservations: Map<string, { amountMicros: number; expiresAt: number }>;
}

interface Reservation {
  counterIds: string[];
  expiresAt: number;
}

/** Sweeping costs a pass over every entry, so it runs at most this often (by the injected clock). */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * In-process hot state for a single gateway instance. Every method does its work synchronously
 * before its promise resolves, so each call is atomic on Node's one thread — the same guarantee
 * the Redis implementation gets from Lua scripts. Money is in integer micro-dollars, like Redis.
 * Expired entries are dropped lazily on access and in a sweep at most once a minute; no timers,
 * so nothing keeps the process alive.
 */
export function createMemoryHotState(options: { now?: () => number } = {}): HotState {
  const now = options.now ?? Date.now;
  const counters = new Map<string, Counter>();
  const reservations = new Map<string, Reservation>();
  const settled = new Map<string, number>();
  const buckets = new Map<string, { level: number; updatedAt: number; windowMs: number }>();
  const channels = new Map<string, Set<(message: string) => void>>();
  let closed = false;
  let lastSweep = now();

  function ensureOpen(): void {
    if (closed) throw new Error('hot state is closed');
  }

  /** Drops the counter's expired reservations and returns its live reserved sum. */
  function liveReserved(counter: Counter, at: number): number {
    let sum = 0;
    for (const [id, reservation] of counter.reservations) {
      if (reservation.expiresAt <= at) counter.reservations.delete(id);
      else sum += reservation.amountMicros;
    }
    return sum;
  }

  function readCounter(key: BudgetCounterKey, at: number): Counter | undefined {
    const id = counterId(key);
    const counter = counters.get(id);
    if (counter && counter.expiresAt !== 0 && counter.expiresAt <= at) {
      counters.delete(id);
      return undefined;
    }
    return counter;
  }

  function writeCounter(key: BudgetCounterKey, at: number): Counter {
    const existing = readCounter(key, at);
    if (existing) return existing;
    const counter: Counter = {
      expiresAt: counterExpiresAt(key),
      spentMicros: 0,
      seeded: false,
      lastSettledAt: 0,
      reservations: new Map(),
    };
    counters.set(counterId(key), counter);
    return counter;
  }

  function liveReservation(reservationId: string, at: number): Reservation | undefined {
    const reservation = reservations.get(reservationId);
    if (reservation && reservation.expiresAt <= at) {
      reservations.delete(reservationId);
      return undefined;
    }
    return reservation;
  }

  function removeReservation(reservationId: string): void {
    const reservation = reservations.get(reservationId);
    if (!reservation) return;
    reservations.delete(reservationId);
    for (const id of reservation.counterIds) counters.get(id)?.reservations.delete(reservationId);
  }

  /** Keeps memory bounded by what is live, whatever keys stop being used. */
  function sweep(at: number): void {
    if (at - lastSweep < SWEEP_INTERVAL_MS) return;
    lastSweep = at;
    for (const [id, counter] of counters) {
      const reserved = liveReserved(counter, at);
      const expired = counter.expiresAt !== 0 && counter.expiresAt <= at;
      // An empty unseeded counter reads the same as a missing one, so it can go too; a seeded
      // one is kept, or the next call would have to read the ledger again.
      if (expired || (!counter.seeded && counter.spentMicros === 0 && reserved === 0)) counters.delete(id);
    }
    for (const [id, reservation] of reservations) if (reservation.expiresAt <= at) reservations.delete(id);
    for (const [id, expiresAt] of settled) if (expiresAt <= at) settled.delete(id);
    for (const [key, bucket] of buckets) if (bucket.updatedAt + bucket.windowMs <= at) buckets.delete(key);
  }

  return {
    async reserve(reservationId, checks, amountUsd, ttlMs): Promise<ReserveResult> {
      ensureOpen();
      const prepared = prepareReserve(reservationId, checks, amountUsd, ttlMs);
      const at = now();
      sweep(at);
      if (liveReservation(reservationId, at)) return { ok: true };
      const unseeded = prepared.checks
        .filter((check) => check.enforce && !readCounter(check.key, at)?.seeded)
        .map((check) => check.key);
      if (unseeded.length > 0) return { ok: false, unseeded };
      for (const check of prepared.checks) {
        if (!check.enforce) continue;
        const counter = readCounter(check.key, at);
        const spent = counter?.spentMicros ?? 0;
        const reserved = counter ? liveReserved(counter, at) : 0;
        if (spent + reserved + prepared.amountMicros > check.limitMicros) {
          return {
            ok: false,
            budgetId: check.key.budgetId,
            spentUsd: fromMicros(spent),
            reservedUsd: fromMicros(reserved),
            limitUsd: fromMicros(check.limitMicros),
          };
        }
      }
      const expiresAt = at + ttlMs;
      for (const check of prepared.checks) {
        writeCounter(check.key, at).reservations.set(reservationId, {
          amountMicros: prepared.amountMicros,
          expiresAt,
        });
      }
      reservations.set(reservationId, { counterIds: prepared.checks.map((check) => check.id), expiresAt });
      return { ok: true };
    },

    async settle(reservationId, keys, actualUsd): Promise<void> {
      ensureOpen();
      const unique = prepareKeys(keys);
      const actualMicros = toMicros(actualUsd, 'actualUsd');
      const at = now();
      sweep(at);
      const settledUntil = settled.get(reservationId);
      if (settledUntil !== undefined && settledUntil > at) return;
      removeReservation(reservationId);
      for (const key of unique) {
        const counter = writeCounter(key, at);
        counter.spentMicros += actualMicros;
        counter.lastSettledAt = at;
      }
      settled.set(reservationId, at + SETTLED_MEMORY_MS);
    },

    async release(reservationId): Promise<void> {
      ensureOpen();
      removeReservation(reservationId);
    },

    async counter(key): Promise<BudgetCounter> {
      ensureOpen();
      prepareKeys([key]);
      const at = now();
      const counter = readCounter(key, at);
      if (!counter) return { spentUsd: 0, reservedUsd: 0 };
      return {
        spentUsd: fromMicros(counter.spentMicros),
        reservedUsd: fromMicros(liveReserved(counter, at)),
      };
    },

    async seedSpent(key, spentUsd, options = {}): Promise<void> {
      ensureOpen();
      prepareKeys([key]);
      const seedMicros = toMicros(spentUsd, 'spentUsd');
      const quietMs = options.lowerIfQuietMs;
      if (quietMs !== undefined) requireQuietMs(quietMs);
      const at = now();
      const counter = writeCounter(key, at);
      const quiet = quietMs !== undefined && at - counter.lastSettledAt >= quietMs;
      counter.spentMicros = quiet ? seedMicros : Math.max(counter.spentMicros, seedMicros);
      counter.seeded = true;
    },

    async consumeRate(checks): Promise<RateResult> {
      ensureOpen();
      prepareRate(checks);
      const at = now();
      sweep(at);
      const levels: number[] = [];
      for (const check of checks) {
        const step = gcraStep(buckets.get(check.key), check, at);
        if (!step.ok) return { ok: false, key: check.key, retryAfterMs: step.retryAfterMs };
        levels.push(step.level);
      }
      // Written only after every check passed: a refusal consumes nothing.
      checks.forEach((check, index) => {
        const previous = buckets.get(check.key)?.updatedAt ?? at;
        buckets.set(check.key, {
          level: levels[index] ?? 0,
          updatedAt: Math.max(previous, at),
          windowMs: check.windowMs,
        });
      });
      return { ok: true };
    },

    async publish(channel, message): Promise<void> {
      ensureOpen();
      // Delivered on a later microtask, like a message from Redis, so a handler never runs
      // inside the publisher's call stack.
      for (const handler of channels.get(channel) ?? []) {
        queueMicrotask(() => {
          try {
            handler(message);
          } catch {
            // Documented: handlers own their errors; one failing must not starve the others.
          }
        });
      }
    },

    async subscribe(channel, handler): Promise<() => Promise<void>> {
      ensureOpen();
      // Wrapped so the same function subscribed twice is two subscriptions, as with Redis.
      const registered = (message: string): void => handler(message);
      const handlers = channels.get(channel) ?? new Set();
      handlers.add(registered);
      channels.set(channel, handlers);
      return async () => {
        handlers.delete(registered);
        if (handlers.size === 0 && channels.get(channel) === handlers) channels.delete(channel);
      };
    },

    async close(): Promise<void> {
      closed = true;
      channels.clear();
    },
  };
}
