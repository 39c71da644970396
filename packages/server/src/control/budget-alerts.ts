import { createHmac } from 'node:crypto';
import { request } from 'undici';
import type { BudgetRow } from '../store/budgets.js';
import type { Database } from '../store/database.js';
import { budgetAlerts } from '../store/schema.js';

/** The shares of an alert budget's limit that are announced, each once per window. */
export const ALERT_THRESHOLDS = [50, 80, 100] as const;

export const SIGNATURE_HEADER = 'x-gatehouse-signature';

export interface BudgetAlertOptions {
  db: Database;
  /** Where alerts are posted; undefined records them without sending. */
  webhookUrl: string | undefined;
  /** Signs every post (HMAC-SHA256), so the receiver can tell it came from this deployment. */
  webhookSecret: string | undefined;
  onError(error: unknown): void;
  timeoutMs?: number;
}

/**
 * Announces alert budgets crossing 50, 80 and 100 % of their limit. Each threshold fires once per
 * window across every gateway instance: the first instance to record it in the store sends it.
 * Posts are signed like Stripe's: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 */
export class BudgetAlerts {
  readonly #options: BudgetAlertOptions;

  constructor(options: BudgetAlertOptions) {
    this.#options = options;
  }

  /** Called after a call settles; never throws and never delays the caller. */
  afterSpend(budget: BudgetRow, window: { start: number; end: number | undefined }, spentUsd: number): void {
    if (budget.action !== 'alert') return;
    const crossed = ALERT_THRESHOLDS.filter((threshold) => spentUsd >= (budget.limitUsd * threshold) / 100);
    if (crossed.length === 0) return;
    void this.#fire(budget, window, spentUsd, crossed).catch(this.#options.onError);
  }

  async #fire(
    budget: BudgetRow,
    window: { start: number; end: number | undefined },
    spentUsd: number,
    crossed: readonly number[],
  ): Promise<void> {
    const recorded = await this.#options.db
      .insert(budgetAlerts)
      .values(crossed.map((threshold) => ({ budgetId: budget.id, windowStart: window.start, threshold })))
      .onConflictDoNothing()
      .returning({ threshold: budgetAlerts.threshold });
    for (const { threshold } of recorded.sort((a, b) => a.threshold - b.threshold)) {
      await this.#post({
        type: 'budget.threshold_crossed',
        threshold,
        budget: {
          id: budget.id,
          name: budget.name,
          scope: budget.scope,
          scopeId: budget.scopeId,
          limitUsd: budget.limitUsd,
          window: budget.window,
        },
        organizationId: budget.organizationId,
        spentUsd,
        windowStart: budget.window === 'total' ? null : new Date(window.start).toISOString(),
        resetsAt: window.end === undefined ? null : new Date(window.end).toISOString(),
        sentAt: new Date().toISOString(),
      });
    }
  }

  async #post(payload: unknown): Promise<void> {
    const { webhookUrl, webhookSecret } = this.#options;
    if (!webhookUrl) return;
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (webhookSecret)
      headers[SIGNATURE_HEADER] = signature(webhookSecret, body, Math.floor(Date.now() / 1000));
    const timeout = this.#options.timeoutMs ?? 5_000;
    const response = await request(webhookUrl, {
      method: 'POST',
      headers,
      body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    await response.body.dump();
    if (response.statusCode >= 300) throw new Error(`alert webhook answered ${response.statusCode}`);
  }
}

export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}
