import { budgetRemainingUsd, GatewayError, windowBounds } from '@gatehouse/core';
import type { BudgetCheck, HotState } from '../../hot-state/types.js';
import type { BudgetRow } from '../../store/budgets.js';
import type { BudgetScope } from '../../store/schema.js';
import type { ResolvedKey } from '../auth/authenticator.js';
import { costUnder, priceFor, unpricedAdvice } from '../metering/pricing.js';
import {
  type Admission,
  type AdmissionRequest,
  type AdmissionTicket,
  NOTHING_HELD,
  reservedOutputTokens,
} from './admission.js';

export interface BudgetAdmissionOptions {
  hotState: HotState;
  /** The budgets on these scopes (cached by the caller; a budget change must clear that cache). */
  budgetsFor(organizationId: string, scopes: { scope: BudgetScope; scopeId: string }[]): Promise<BudgetRow[]>;
  /** Settled spend of a budget in a window, from the usage ledger: seeds counters the hot state lacks. */
  ledgerSpend(budget: BudgetRow, windowStart: number): Promise<number>;
  timeZoneOf(organizationId: string): Promise<string>;
  now(): number;
  /** Output tokens assumed for a call that names no `max_tokens`, and the most ever assumed. */
  reservedOutputTokensCap: number;
  /** A reservation whose gateway died is dropped after this long. */
  reservationTtlMs: number;
  /**
   * How long a counter seeded from the ledger is trusted before it is seeded again. Seeding never
   * lowers a counter, so this only matters when the hot state lost its counters (a Redis
   * restart): within this long they are rebuilt from the ledger, without double charging.
   */
  seedRefreshMs: number;
  /**
   * A periodic reseed may lower a counter to the ledger's figure once no settle has touched it
   * for this long: every event settled before then is in the ledger (written ahead of the settle,
   * and flushed within `GATEHOUSE_USAGE_FLUSH_MS`), so a higher counter charged what the ledger
   * never got. Default two minutes, twice the longest flush interval.
   */
  lowerAfterQuietMs?: number;
  /** Told the spend after each call settles, to announce alert thresholds. */
  alerts: {
    afterSpend(budget: BudgetRow, window: { start: number; end: number | undefined }, spentUsd: number): void;
  };
}

const DEFAULT_LOWER_AFTER_QUIET_MS = 120_000;

export const BUDGET_REMAINING_HEADER = 'x-gatehouse-budget-remaining-usd';

/**
 * Budgets: before dispatch, reserve the call's estimated cost against every budget that applies
 * (atomically, across gateway instances, in the hot state); settle to the actual cost afterwards.
 * A block budget that the reservation would take past its limit refuses the call with 402.
 */
export class BudgetAdmission implements Admission {
  readonly #options: BudgetAdmissionOptions;
  /** When each counter was last seeded from the ledger in this process, by `budgetId:windowStart`. */
  readonly #seededAt = new Map<string, number>();

  constructor(options: BudgetAdmissionOptions) {
    this.#options = options;
  }

  async admit(request: AdmissionRequest): Promise<AdmissionTicket> {
    const { identity } = request;
    const budgets = (
      await this.#options.budgetsFor(identity.organizationId, budgetScopesOf(identity))
    ).filter((budget) => applies(budget, request));
    if (budgets.length === 0) return NOTHING_HELD;
    // A block budget cannot be held to a cost nobody knows: refuse before anything is reserved.
    if (budgets.some((budget) => budget.action === 'block')) refuseUnpriced(request);

    const now = this.#options.now();
    const timeZone = await this.#options.timeZoneOf(identity.organizationId);
    const windows = budgets.map((budget) => ({ budget, bounds: windowBounds(budget.window, now, timeZone) }));
    await Promise.all(windows.map(({ budget, bounds }) => this.#seed(budget, bounds.start)));

    const estimate = this.#estimate(request);
    const reservationId = `${identity.keyId}:${now}:${Math.random().toString(36).slice(2)}`;
    const checks = windows.map(({ budget, bounds }) => ({
      key: { budgetId: budget.id, windowStart: bounds.start },
      limitUsd: budget.limitUsd,
      enforce: budget.action === 'block',
    }));
    const result = await this.#reserve(reservationId, checks, estimate, windows);
    if (!result.ok) {
      const refused = windows.find(({ budget }) => budget.id === result.budgetId);
      throw exhausted(refused?.budget, refused?.bounds.end);
    }
    const keys = checks.map((check) => check.key);
    const remaining = await this.#tightestRemaining(windows, keys);
    const hotState = this.#options.hotState;
    return {
      headers: remaining === undefined ? {} : { [BUDGET_REMAINING_HEADER]: remaining.toFixed(6) },
      settle: async (actualCostUsd) => {
        await hotState.settle(reservationId, keys, actualCostUsd);
        await this.#announce(windows);
      },
      release: () => hotState.release(reservationId),
    };
  }

  /**
   * Reserves; a counter the hot state says was never seeded (lost in a Redis restart, whatever
   * this process remembers) is seeded from the ledger now and the reserve tried once more, so a
   * spent budget is never taken for an empty one.
   */
  async #reserve(
    reservationId: string,
    checks: BudgetCheck[],
    estimate: number,
    windows: { budget: BudgetRow; bounds: { start: number } }[],
  ): Promise<{ ok: true } | { ok: false; budgetId: string }> {
    const hotState = this.#options.hotState;
    const ttlMs = this.#options.reservationTtlMs;
    const first = await hotState.reserve(reservationId, checks, estimate, ttlMs);
    if (first.ok || !('unseeded' in first)) return first;
    await Promise.all(
      first.unseeded.map(async (key) => {
        const budget = windows.find(
          (window) => window.budget.id === key.budgetId && window.bounds.start === key.windowStart,
        )?.budget;
        if (budget) await this.#seed(budget, key.windowStart, { force: true });
      }),
    );
    const second = await hotState.reserve(reservationId, checks, estimate, ttlMs);
    // Unseeded twice in a row: the hot state keeps losing its counters; refuse rather than guess.
    if (!second.ok && 'unseeded' in second) throw new Error('hot state lost budget counters while seeding');
    return second;
  }

  /** Hands alert budgets their new spend; the alerts decide what crossed a threshold. */
  async #announce(
    windows: { budget: BudgetRow; bounds: { start: number; end: number | undefined } }[],
  ): Promise<void> {
    for (const { budget, bounds } of windows) {
      if (budget.action !== 'alert') continue;
      const counter = await this.#options.hotState.counter({
        budgetId: budget.id,
        windowStart: bounds.start,
      });
      this.#options.alerts.afterSpend(budget, bounds, counter.spentUsd);
    }
  }

  /**
   * Brings a counter up to what the ledger says was spent, at most every `seedRefreshMs` unless
   * forced; after a quiet spell it may also bring it down (see `lowerAfterQuietMs`).
   */
  async #seed(budget: BudgetRow, windowStart: number, options: { force?: boolean } = {}): Promise<void> {
    const seedKey = `${budget.id}:${windowStart}`;
    const now = this.#options.now();
    const seededAt = this.#seededAt.get(seedKey);
    if (!options.force && seededAt !== undefined && now - seededAt < this.#options.seedRefreshMs) return;
    const spent = await this.#options.ledgerSpend(budget, windowStart);
    await this.#options.hotState.seedSpent({ budgetId: budget.id, windowStart }, spent, {
      lowerIfQuietMs: this.#options.lowerAfterQuietMs ?? DEFAULT_LOWER_AFTER_QUIET_MS,
    });
    if (this.#seededAt.size >= 100_000) this.#seededAt.clear();
    this.#seededAt.set(seedKey, now);
  }

  /**
   * The call's one estimate (`estimateCall`: the body as sent, its output bound), priced like the
   * call itself will be.
   */
  #estimate(request: AdmissionRequest): number {
    const candidate = request.route.candidates[0];
    if (!candidate) return 0;
    const output = reservedOutputTokens(request.estimate, this.#options.reservedOutputTokensCap);
    const input = request.estimate.inputTokens;
    const usage = {
      input: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
      output: { total: output, text: output, reasoning: 0 },
    };
    return costUnder(priceFor(candidate, request.route.model), usage);
  }

  async #tightestRemaining(
    windows: { budget: BudgetRow }[],
    keys: { budgetId: string; windowStart: number }[],
  ): Promise<number | undefined> {
    let tightest: number | undefined;
    for (const [index, { budget }] of windows.entries()) {
      if (budget.action !== 'block') continue;
      const counter = await this.#options.hotState.counter(
        keys[index] as { budgetId: string; windowStart: number },
      );
      const remaining = budgetRemainingUsd(budget.limitUsd, counter);
      tightest = tightest === undefined ? remaining : Math.min(tightest, remaining);
    }
    return tightest;
  }
}

/** Every scope a call counts against. */
export function budgetScopesOf(identity: ResolvedKey): { scope: BudgetScope; scopeId: string }[] {
  const scopes: { scope: BudgetScope; scopeId: string }[] = [
    { scope: 'org', scopeId: identity.organizationId },
    { scope: 'project', scopeId: identity.projectId },
    { scope: 'user', scopeId: identity.principalId },
    { scope: 'key', scopeId: identity.keyId },
  ];
  if (identity.teamId) scopes.push({ scope: 'team', scopeId: identity.teamId });
  return scopes;
}

/** A budget limited to one model or provider applies only to calls that may spend there. */
function applies(budget: BudgetRow, request: AdmissionRequest): boolean {
  if (budget.model && budget.model !== request.route.model) return false;
  if (
    budget.providerId &&
    !request.route.candidates.some((candidate) => candidate.target.id === budget.providerId)
  ) {
    return false;
  }
  return true;
}

/**
 * Any credential the call may fall back to counts: a fallback with no price would spend past
 * the budget unseen just as surely as the first credential.
 */
function refuseUnpriced(request: AdmissionRequest): void {
  const { model, candidates } = request.route;
  const unpriced = candidates.find((candidate) => priceFor(candidate, model).source === 'unpriced');
  if (!unpriced) return;
  throw new GatewayError(
    'model_unpriced',
    `The model '${model}' has no known price, so the budget on this key cannot be enforced and the call was refused. ${unpricedAdvice(model, unpriced.target.name)}`,
  );
}

function exhausted(budget: BudgetRow | undefined, resetsAt: number | undefined): GatewayError {
  const name = budget?.name ? `"${budget.name}"` : (budget?.id ?? 'a budget');
  const period = budget?.window === 'total' ? 'in total' : `per ${budget?.window}`;
  const limit = budget ? ` of $${budget.limitUsd.toFixed(2)} ${period}` : '';
  const reset =
    resetsAt === undefined ? ' It does not reset.' : ` It resets at ${new Date(resetsAt).toISOString()}.`;
  return new GatewayError('budget_exhausted', `Budget ${name}${limit} is exhausted.${reset}`, {
    headers: { 'x-should-retry': 'false' },
  });
}
