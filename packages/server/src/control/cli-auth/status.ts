import type { FastifyInstance } from 'fastify';
import { type Authenticator, bearerToken, budgetScopesOf, type ResolvedKey } from '../../gateway/index.js';
import type { BudgetRow } from '../../store/budgets.js';
import type { BudgetScope } from '../../store/schema.js';
import { budgetStanding } from '../budget-standing.js';
import { OAuthError, sendOAuthError } from './tokens.js';

export interface SelfStatusOptions {
  authenticator: Authenticator;
  /** The budgets on the given scopes (the gateways' cached copy). */
  budgetsFor(
    organizationId: string,
    scopes: { scope: BudgetScope; scopeId: string }[],
  ): Promise<readonly BudgetRow[]>;
  /** Spent and reserved in a budget's window, as the gateways count it. */
  counter(budget: BudgetRow, windowStart: number): Promise<{ spentUsd: number; reservedUsd: number }>;
  timeZoneOf(organizationId: string): Promise<string>;
  /** Milliseconds a provider credential is skipped for after repeated failures; 0 when healthy. */
  blockedFor(credentialId: string): number;
  now(): Date;
}

/**
 * `GET /api/auth/cli/status`: what `gatehouse status` shows a person about their own key —
 * every budget that limits it, with spent, remaining and reset time, and the health of the
 * providers their policy routes to. Nothing about anyone else.
 */
export function selfStatusRoute(app: FastifyInstance, options: SelfStatusOptions): void {
  app.get('/api/auth/cli/status', { schema: { hide: true } }, async (request, reply) => {
    let identity: ResolvedKey;
    try {
      identity = await options.authenticator.authenticate(bearerToken(request.headers));
    } catch (error) {
      return sendOAuthError(reply, new OAuthError('invalid_token', (error as Error).message, 401));
    }
    return selfStatus(options, {
      organizationId: identity.organizationId,
      budgetScopes: budgetScopesOf(identity),
      providers: identity.policy.providers,
    });
  });
}

/** Whose status: the budgets that apply to them and the providers their policy routes to. */
export interface StatusSubject {
  organizationId: string;
  budgetScopes: { scope: BudgetScope; scopeId: string }[];
  providers: readonly { id: string; name: string; type: string }[];
}

/** One status answer for the CLI's old route and `/api/me/status` alike. */
export async function selfStatus(options: Omit<SelfStatusOptions, 'authenticator'>, subject: StatusSubject) {
  const now = options.now().getTime();
  const timeZone = await options.timeZoneOf(subject.organizationId);
  const budgets = await options.budgetsFor(subject.organizationId, subject.budgetScopes);
  return {
    budgets: await Promise.all(
      budgets.map(async (budget) => {
        const standing = await budgetStanding(budget, { counter: options.counter, now, timeZone });
        return {
          id: budget.id,
          name: budget.name,
          scope: budget.scope,
          window: budget.window,
          action: budget.action,
          model: budget.model,
          limitUsd: budget.limitUsd,
          spentUsd: standing.spentUsd,
          remainingUsd: standing.remainingUsd,
          resetsAt: standing.resetsAt,
        };
      }),
    ),
    providers: subject.providers.map((provider) => {
      const blockedMs = options.blockedFor(provider.id);
      return {
        name: provider.name,
        type: provider.type,
        status: blockedMs === 0 ? 'available' : 'cooling_down',
        retryInSeconds: blockedMs === 0 ? null : Math.ceil(blockedMs / 1000),
      };
    }),
  };
}
