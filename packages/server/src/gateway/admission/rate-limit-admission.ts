import { GatewayError } from '@gatehouse/core';
import type { HotState, RateCheck } from '../../hot-state/types.js';
import type { RateLimitRow } from '../../store/rate-limits.js';
import type { RateLimitScope } from '../../store/schema.js';
import {
  type Admission,
  type AdmissionRequest,
  type AdmissionTicket,
  NOTHING_HELD,
  reservedOutputTokens,
} from './admission.js';

export interface RateLimitAdmissionOptions {
  hotState: HotState;
  /** The rate limits on these scopes (cached by the caller; a rate-limit change must clear that cache). */
  limitsFor(
    organizationId: string,
    scopes: { scope: RateLimitScope; scopeId: string }[],
  ): Promise<RateLimitRow[]>;
  /** Output tokens assumed for a call that names no `max_tokens`, and the most ever assumed. */
  reservedOutputTokensCap: number;
}

/** Both limits are per minute; the hot state's GCRA lets a full minute's worth arrive at once. */
const WINDOW_MS = 60_000;

/** What one rate check stands for, to name it in a refusal. */
interface Limit {
  row: RateLimitRow;
  kind: 'rpm' | 'tpm';
  limit: number;
  cost: number;
}

/**
 * Rate limits: requests and tokens per minute on the call's key, user (principal), project and
 * the provider credential it will be sent to first, enforced across gateway instances by one
 * all-or-nothing `consumeRate` in the hot state. A refused call consumes nothing on any limit.
 *
 * Tokens per minute are charged with the estimate made before dispatch (`estimateCall`: input
 * from the body as sent, output bounded by its `max_tokens` and a cap), never corrected to the actual count: a
 * leaky bucket cannot give back what it admitted without letting a burst through that the
 * estimate had already refused, and the estimate's output bound is an upper bound on what the
 * provider may return, so counting it errs towards admitting less, not more. A call without
 * `max_tokens` is charged the cap.
 */
export class RateLimitAdmission implements Admission {
  readonly #options: RateLimitAdmissionOptions;

  constructor(options: RateLimitAdmissionOptions) {
    this.#options = options;
  }

  async admit(request: AdmissionRequest): Promise<AdmissionTicket> {
    const rows = await this.#options.limitsFor(request.identity.organizationId, rateLimitScopesOf(request));
    if (rows.length === 0) return NOTHING_HELD;

    const tokens = this.#estimatedTokens(request);
    const limits = new Map<string, Limit>();
    for (const row of rows) {
      // One row per scope (a unique index), so every key below appears once.
      if (row.requestsPerMinute !== null) {
        limits.set(keyOf(row, 'rpm'), { row, kind: 'rpm', limit: row.requestsPerMinute, cost: 1 });
      }
      if (row.tokensPerMinute !== null) {
        limits.set(keyOf(row, 'tpm'), { row, kind: 'tpm', limit: row.tokensPerMinute, cost: tokens });
      }
    }
    const checks: RateCheck[] = [...limits].map(([key, limit]) => ({
      key,
      limit: limit.limit,
      windowMs: WINDOW_MS,
      cost: limit.cost,
    }));
    if (checks.length === 0) return NOTHING_HELD;

    const result = await this.#options.hotState.consumeRate(checks);
    if (!result.ok) throw rateLimited(limits.get(result.key), result.retryAfterMs);
    return NOTHING_HELD;
  }

  /** The call's one estimate (`estimateCall`), output held as budgets hold it. */
  #estimatedTokens(request: AdmissionRequest): number {
    const { estimate } = request;
    return estimate.inputTokens + reservedOutputTokens(estimate, this.#options.reservedOutputTokensCap);
  }
}

/**
 * Every scope a call counts against. The provider is the route's first candidate: the one the
 * call is sent to unless it fails, so a fallback does not spend the next provider's limit up front.
 */
function rateLimitScopesOf(request: AdmissionRequest): { scope: RateLimitScope; scopeId: string }[] {
  const { identity } = request;
  const scopes: { scope: RateLimitScope; scopeId: string }[] = [
    { scope: 'key', scopeId: identity.keyId },
    { scope: 'user', scopeId: identity.principalId },
    { scope: 'project', scopeId: identity.projectId },
  ];
  const provider = request.route.candidates[0];
  if (provider) scopes.push({ scope: 'provider', scopeId: provider.target.id });
  return scopes;
}

function keyOf(row: RateLimitRow, kind: 'rpm' | 'tpm'): string {
  return `rate:${row.scope}:${row.scopeId}:${kind}`;
}

const scopeNames: Record<RateLimitScope, string> = {
  key: 'key',
  user: 'user',
  project: 'project',
  provider: 'provider credential',
};

function rateLimited(limit: Limit | undefined, retryAfterMs: number): GatewayError {
  const retryAfter = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  if (!limit) {
    return new GatewayError('rate_limited', `Rate limit exceeded. Retry after ${retryAfter} seconds.`, {
      headers: { 'retry-after': retryAfter },
    });
  }
  const unit = limit.kind === 'rpm' ? 'requests' : 'tokens';
  const name = `${limit.limit} ${unit} per minute on ${scopeNames[limit.row.scope]} ${limit.row.scopeId}`;
  if (limit.cost > limit.limit) {
    // Waiting cannot help: tell SDKs not to retry, and say what to change.
    return new GatewayError(
      'rate_limited',
      `This request's estimated ${limit.cost} tokens exceed the rate limit of ${name} on their own; lower max_tokens or send less input.`,
      { headers: { 'retry-after': retryAfter, 'x-should-retry': 'false' } },
    );
  }
  return new GatewayError(
    'rate_limited',
    `Rate limit of ${name} exceeded. Retry after ${retryAfter} seconds.`,
    { headers: { 'retry-after': retryAfter } },
  );
}
