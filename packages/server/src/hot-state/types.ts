/**
 * Hot state: the few pieces of shared, fast-changing state the request path needs — budget
 * reservations, rate-limit counters and change fan-out. One interface, two implementations
 * (in-process for a single instance, Redis for many) held to one conformance suite, so the
 * gateway never branches on which one it was given.
 */

/** Identifies one budget's counter for one window; a budget has a fresh counter per window. */
export interface BudgetCounterKey {
  /** The budget's id; budgets are scoped (organisation, team, …) by whoever builds the checks. */
  budgetId: string;
  /**
   * Epoch ms of the window's start (calendar-aligned by the caller, who knows the time zone);
   * 0 for a `total` budget. Windowed counters expire `COUNTER_RETENTION_MS` after this instant so
   * state stays bounded; `total` counters never expire.
   */
  windowStart: number;
}

/** One budget a request is checked against. */
export interface BudgetCheck {
  /** The counter that the reservation is added to. */
  key: BudgetCounterKey;
  /** The budget's limit; compared in integer micro-dollars so sums never drift. */
  limitUsd: number;
  /** block budgets refuse; alert budgets only count */
  enforce: boolean;
}

/**
 * Outcome of `reserve`. A refusal names the first enforced budget that would be exceeded and its
 * figures at that instant, so the caller can render a message naming the budget. `unseeded`
 * lists the enforced counters that were never seeded from the usage ledger (new, or lost in a
 * Redis restart): their spend is unknown, so nothing was reserved; the caller seeds them and
 * tries again.
 */
export type ReserveResult =
  | { ok: true }
  | { ok: false; budgetId: string; spentUsd: number; reservedUsd: number; limitUsd: number }
  | { ok: false; unseeded: BudgetCounterKey[] };

/** A counter's figures; `reservedUsd` counts only reservations that have not expired. */
export interface BudgetCounter {
  /** Settled (and seeded) spend in this window. */
  spentUsd: number;
  /** Sum of live reservations: requests in flight whose cost is not known yet. */
  reservedUsd: number;
}

/** One rate limit a request is checked against. */
export interface RateCheck {
  /**
   * Identifies the limit, e.g. `rpm:vk_123` or `tpm:proj_9`. One key must always be used with
   * the same limit and window; the same key twice in one call is a caller bug and throws.
   */
  key: string;
  /** How much `cost` the window admits (a non-negative integer; 0 admits nothing). */
  limit: number;
  /** Window length in ms (positive integer). */
  windowMs: number;
  /** 1 for requests, tokens for TPM (a non-negative integer). */
  cost: number;
}

/** Outcome of `consumeRate`; a refusal says which limit and when it would admit the request. */
export type RateResult = { ok: true } | { ok: false; key: string; retryAfterMs: number };

export interface HotState {
  /**
   * Atomically: every enforced check's counter must have been seeded (`seedSpent`; settling alone
   * does not count, since a counter rebuilt by settles after a restart knows only part of the
   * spend), else the answer is `unseeded` and nothing changes. Then for every enforced check,
   * spent + reserved + amountUsd must stay <= limitUsd; if
   * all pass, the reservation is added to every check's counter (enforced or not); if any fails,
   * nothing changes. The reservation expires after ttlMs (a gateway that died never settles).
   * Reserving an id that is still live returns `{ ok: true }` without reserving again, so a
   * retried call cannot double-reserve. The same counter twice in `checks` throws.
   */
  reserve(
    reservationId: string,
    checks: BudgetCheck[],
    amountUsd: number,
    ttlMs: number,
  ): Promise<ReserveResult>;
  /**
   * Atomically removes the reservation from all its counters and adds actualUsd to their spent.
   * Idempotent: settling twice, or settling an expired/unknown reservation, adds the spend at most
   * once (an unknown reservation id still needs its spend recorded: the counters charged are always
   * the explicit `keys` argument, normally the keys it reserved on). Idempotency is remembered for
   * `SETTLED_MEMORY_MS`.
   */
  settle(reservationId: string, keys: BudgetCounterKey[], actualUsd: number): Promise<void>;
  /**
   * Removes the reservation without spending (the request failed before reaching a provider).
   * Releasing an unknown, expired or already released reservation does nothing.
   */
  release(reservationId: string): Promise<void>;
  /** The counter's figures, for response headers and the admin view; zero when it does not exist. */
  counter(key: BudgetCounterKey): Promise<BudgetCounter>;
  /**
   * Sets spent to at least `spentUsd` if the counter is missing or lower — used to rebuild state
   * from the usage ledger after Redis lost it (restart) — and marks the counter seeded, so
   * `reserve` trusts it. Never lowers a counter, except with `lowerIfQuietMs`: then, when no
   * settle has touched the counter for that long (by the hot state's clock), spent becomes
   * exactly `spentUsd`, so a counter that charged what the ledger never got converges down to
   * it. Quiet means every settle's event has had time to reach the ledger (the caller picks the
   * span from its write interval); reservations are separate from spent and stay as they are.
   */
  seedSpent(key: BudgetCounterKey, spentUsd: number, options?: { lowerIfQuietMs?: number }): Promise<void>;
  /**
   * Cluster-wide rate limits using GCRA (a leaky bucket of capacity `limit * windowMs`, draining
   * `limit` per ms): up to `limit` cost may arrive at once, after which capacity comes back
   * continuously; an idle `windowMs` restores all of it. Chosen over fixed windows (which admit
   * twice the limit around a boundary) and sliding logs (memory grows with the limit, bad for
   * TPM). All-or-nothing across checks; retryAfterMs is when the first failing check would admit.
   * A cost above its limit can never be admitted and is refused with retryAfterMs = windowMs.
   */
  consumeRate(checks: RateCheck[]): Promise<RateResult>;
  /**
   * Change fan-out to every instance (revocations, policy and budget changes): at-most-once
   * delivery is fine, because each instance's caches are also bounded in time; handlers run for
   * messages from this instance too, so the publisher needs no separate local path.
   */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Registers a handler; resolves once messages published afterwards will reach it, with a
   * function that removes it again. A handler that throws is isolated from the others: handlers
   * must catch their own errors.
   */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  /** Releases connections; every later call rejects. */
  close(): Promise<void>;
}
