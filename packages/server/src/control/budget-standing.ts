import { type BudgetCounter, budgetRemainingUsd, windowBounds } from '@gatehouse/core';
import type { BudgetRow } from '../store/budgets.js';

/** Where a budget stands now, as the admin API and `gatehouse status` both show it. */
export interface BudgetStanding extends BudgetCounter {
  remainingUsd: number;
  /** ISO time the current window began; null for a `total` budget. */
  windowStart: string | null;
  /** ISO time the window resets; null for a `total` budget. */
  resetsAt: string | null;
}

/** The one computation of a budget's standing: its window in the organisation's zone, its counter. */
export async function budgetStanding(
  budget: BudgetRow,
  options: {
    counter(budget: BudgetRow, windowStart: number): Promise<BudgetCounter>;
    now: number;
    timeZone: string;
  },
): Promise<BudgetStanding> {
  const bounds = windowBounds(budget.window, options.now, options.timeZone);
  const counter = await options.counter(budget, bounds.start);
  return {
    spentUsd: counter.spentUsd,
    reservedUsd: counter.reservedUsd,
    remainingUsd: budgetRemainingUsd(budget.limitUsd, counter),
    windowStart: budget.window === 'total' ? null : new Date(bounds.start).toISOString(),
    resetsAt: bounds.end === undefined ? null : new Date(bounds.end).toISOString(),
  };
}
