import {
  type ApiKind,
  GatewayError,
  modelListIncludes,
  type WireDialect,
  wireDialectOfApi,
} from '@gatehouse/core';
import type { EffectivePolicy } from '../auth/authenticator.js';
import { adapterFor } from '../providers/registry.js';
import type { ProviderAdapter, ProviderTarget } from '../providers/types.js';
import { canTranslate } from '../relay/translation/codecs.js';
import { isModelAllowed } from './model-access.js';
import { modelsForPolicy } from './models.js';

/** A credential able to serve the call: spoken to in the client's own API, or through translation. */
export type RouteCandidate = PassedThroughCandidate | TranslatedCandidate;

interface CandidateTarget {
  target: ProviderTarget;
  adapter: ProviderAdapter;
}

/** The provider speaks the client's API: the client's bytes pass through (with small rewrites). */
export interface PassedThroughCandidate extends CandidateTarget {
  translated: false;
  /** The client's own API. */
  dialect: ApiKind;
}

/** The provider speaks another API: the call is translated through the neutral model and back. */
export interface TranslatedCandidate extends CandidateTarget {
  translated: true;
  /** The provider's API the call is translated into. */
  dialect: WireDialect;
  /** The client's API, as the codec that reads its requests and writes its answers. */
  clientDialect: WireDialect;
}

export interface ResolvedRoute {
  /** The model to ask the provider for, after aliases. */
  model: string;
  /** Credentials able to serve the call, in the policy's order. */
  candidates: RouteCandidate[];
}

/**
 * Resolves the model through the policy's aliases and keeps only the credentials that can serve
 * it, natively or through translation, so no fallback attempt is spent on a provider that would
 * refuse the model.
 */
export function resolveRoute(policy: EffectivePolicy, api: ApiKind, requestedModel: string): ResolvedRoute {
  if (policy.providers.length === 0) {
    throw new GatewayError(
      'no_provider',
      "No routing policy with providers applies to this key's project. Ask an administrator to set a default routing policy.",
    );
  }
  const model = policy.modelAliases[requestedModel] ?? requestedModel;
  if (!isModelAllowed(policy, requestedModel, model)) {
    throw new GatewayError('model_not_allowed', `The model '${requestedModel}' is not allowed for this key.`);
  }
  const candidates: RouteCandidate[] = [];
  for (const target of policy.providers) {
    const verdict = judgeCredential(target, api, model);
    if ('candidate' in verdict) candidates.push(verdict.candidate);
  }
  if (candidates.length === 0) {
    throw new GatewayError('model_not_found', notFoundMessage(policy, requestedModel));
  }
  return { model, candidates };
}

/** Why a credential in the chain cannot serve a call, before any breaker is asked. */
export type CredentialSkip = 'unknown_provider_type' | 'model_not_served' | 'api_not_spoken';

/**
 * Whether one credential can serve the model for the client's API, and how: the one rule the
 * resolver and the admin preview both read, so the preview cannot disagree with a real call.
 */
export function judgeCredential(
  target: ProviderTarget,
  api: ApiKind,
  model: string,
): { candidate: RouteCandidate } | { skipped: CredentialSkip } {
  const adapter = adapterFor(target.type);
  if (!adapter) return { skipped: 'unknown_provider_type' };
  // A list (exact ids and patterns) is the whole truth; without one, the adapter's vendor rule.
  const serves = target.models ? modelListIncludes(target.models, model) : adapter.servesModel(target, model);
  if (!serves) return { skipped: 'model_not_served' };
  const native = adapter.nativeApis.includes(api) && (adapter.isNativeFor?.(api, model) ?? true);
  if (native) return { candidate: { target, adapter, dialect: api, translated: false } };
  const clientDialect = wireDialectOfApi[api];
  const providerDialect = adapter.translationDialect(model);
  if (clientDialect && providerDialect && canTranslate(clientDialect, providerDialect)) {
    return {
      candidate: { target, adapter, dialect: providerDialect, clientDialect, translated: true },
    };
  }
  return { skipped: 'api_not_spoken' };
}

/** How many model ids a 404 names before it says how many more there are. */
const LISTED_IN_NOT_FOUND = 20;

/** Says why and what instead: the caller learns which models this key can use. */
function notFoundMessage(policy: EffectivePolicy, requestedModel: string): string {
  const usable = modelsForPolicy(policy).map((entry) => entry.id);
  const reason = `No provider in this key's routing policy serves the model '${requestedModel}'.`;
  if (usable.length === 0)
    return `${reason} This key can use no model yet; ask an administrator to list models on a provider.`;
  const named = usable.slice(0, LISTED_IN_NOT_FOUND).join(', ');
  const more = usable.length > LISTED_IN_NOT_FOUND ? ` and ${usable.length - LISTED_IN_NOT_FOUND} more` : '';
  return `${reason} Models this key may use: ${named}${more}.`;
}
