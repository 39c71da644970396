import { type ApiKind, GatewayError } from '@gatehouse/core';
import type { EffectivePolicy } from '../auth/authenticator.js';
import type { CircuitBreakers } from './circuit-breaker.js';
import { isModelAllowed } from './model-access.js';
import { type CredentialSkip, judgeCredential, resolveRoute } from './routing.js';

/** One credential of the policy's chain, and what a call for the model would do with it. */
export interface ChainStep {
  providerId: string;
  name: string;
  type: string;
  /** Its place among the credentials that would be tried (1 first), or null when it is skipped. */
  tryOrder: number | null;
  /** Why it is skipped, or null when it would be tried. */
  skipped: CredentialSkip | 'circuit_open' | null;
  /** Spoken to in the client's own API (bytes pass through) or translated; null when skipped for the model. */
  translated: boolean | null;
  /** The provider's API the call would go out in. */
  dialect: string | null;
  /** Seconds until an open circuit lets a call through again. */
  retryInSeconds: number | null;
}

/** What the gateway would do with a call for `requestedModel` under a policy, without making it. */
export interface RoutePreview {
  requestedModel: string;
  /** The model the provider is asked for, after the policy's aliases. */
  model: string;
  /** Whether the allow and deny lists let the model through (both names checked, as calls are). */
  allowed: boolean;
  /** The refusal a real call would get (its code and message), or null when it would be served. */
  refusal: { code: string; message: string } | null;
  /** Every credential in the policy's order. */
  chain: ChainStep[];
}

/**
 * Runs the resolver a call runs (`resolveRoute`, the same aliases, lists and per-credential rule)
 * and the breakers dispatch asks, for a model and client API, and says what each step decided.
 */
export function previewRoute(
  policy: EffectivePolicy,
  api: ApiKind,
  requestedModel: string,
  breakers: CircuitBreakers,
): RoutePreview {
  const model = policy.modelAliases[requestedModel] ?? requestedModel;
  const allowed = isModelAllowed(policy, requestedModel, model);
  let refusal: RoutePreview['refusal'] = null;
  try {
    resolveRoute(policy, api, requestedModel);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    refusal = { code: error.code, message: error.message };
  }
  let tried = 0;
  const chain = policy.providers.map((target): ChainStep => {
    const verdict = judgeCredential(target, api, model);
    const step = { providerId: target.id, name: target.name, type: target.type };
    if ('skipped' in verdict) {
      return {
        ...step,
        tryOrder: null,
        skipped: verdict.skipped,
        translated: null,
        dialect: null,
        retryInSeconds: null,
      };
    }
    const { translated, dialect } = verdict.candidate;
    const blockedMs = breakers.blockedFor(target.id);
    if (blockedMs > 0) {
      const retryInSeconds = Math.max(1, Math.ceil(blockedMs / 1000));
      return { ...step, tryOrder: null, skipped: 'circuit_open', translated, dialect, retryInSeconds };
    }
    tried += 1;
    return { ...step, tryOrder: tried, skipped: null, translated, dialect, retryInSeconds: null };
  });
  if (!refusal && tried === 0) {
    // Dispatch refuses when every credential able to serve is cooling down.
    refusal = {
      code: 'no_provider',
      message: 'Every provider that serves this model is failing; calls are refused until a circuit closes.',
    };
  }
  return { requestedModel, model, allowed, refusal, chain };
}
