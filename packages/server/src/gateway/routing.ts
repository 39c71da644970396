import { type ApiKind, GatewayError } from '@gatehouse/core';
import type { EffectivePolicy } from './auth.js';
import { adapterFor } from './providers/registry.js';
import type { ProviderAdapter, ProviderTarget } from './providers/types.js';

export interface RouteCandidate {
  target: ProviderTarget;
  adapter: ProviderAdapter;
}

export interface ResolvedRoute {
  /** The model to ask the provider for, after aliases. */
  model: string;
  /** Credentials able to serve the call, in the policy's order. */
  candidates: RouteCandidate[];
}

/**
 * Resolves the model through the policy's aliases and keeps only the credentials that can serve
 * it, so no attempt is ever spent on a provider that would refuse the model.
 */
export function resolveRoute(policy: EffectivePolicy, api: ApiKind, requestedModel: string): ResolvedRoute {
  if (policy.providers.length === 0) {
    throw new GatewayError(
      'no_provider',
      "No routing policy with providers applies to this key's project. Ask an administrator to set a default routing policy.",
    );
  }
  const model = policy.modelAliases[requestedModel] ?? requestedModel;
  const candidates: RouteCandidate[] = [];
  for (const target of policy.providers) {
    const adapter = adapterFor(target.type);
    if (!adapter?.nativeApis.includes(api)) continue;
    if (target.models && !target.models.has(model)) continue;
    candidates.push({ target, adapter });
  }
  if (candidates.length === 0) {
    throw new GatewayError(
      'model_not_found',
      `The model '${requestedModel}' is not available with this key.`,
    );
  }
  return { model, candidates };
}
