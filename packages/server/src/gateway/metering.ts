import { type ApiKind, costOf, emptyUsage, type Usage } from '@gatehouse/core';
import type { UsageLedger } from '../store/usage-ledger.js';
import type { ResolvedKey } from './auth.js';
import type { Attempt } from './dispatch.js';
import type { RouteCandidate } from './routing.js';

export interface MeteredCall {
  requestId: string;
  api: ApiKind;
  identity: ResolvedKey;
  /** The model asked of the provider (after aliases). */
  model: string;
  /** The model the provider says answered; priced when known, since it is the most exact. */
  upstreamModel: string | undefined;
  servedBy: RouteCandidate | undefined;
  /** Every credential tried, in order. */
  attempts: Attempt[];
  status: number;
  errorCode: string | undefined;
  streamed: boolean;
  usage: Usage | undefined;
  usageReported: boolean;
  latencyMs: number;
  firstByteMs: number | undefined;
  receivedAt: Date;
}

/**
 * Prices the call and hands one usage event to the ledger; the write happens later, in a batch.
 * Returns the cost, which admission settles the call's reservation to.
 */
export function meter(ledger: UsageLedger, call: MeteredCall): number {
  const usage = call.usage ?? emptyUsage();
  const cost = call.servedBy
    ? priceOf(usage, call.upstreamModel ?? call.model, call.model, call.servedBy)
    : { costUsd: 0, source: 'unpriced' as const };
  ledger.record({
    requestId: call.requestId,
    organizationId: call.identity.organizationId,
    projectId: call.identity.projectId,
    teamId: call.identity.teamId ?? null,
    principalId: call.identity.principalId,
    keyId: call.identity.keyId,
    api: call.api,
    model: call.model,
    providerId: call.servedBy?.target.id ?? null,
    providerType: call.servedBy?.target.type ?? null,
    status: call.status,
    errorCode: call.errorCode ?? null,
    streamed: call.streamed,
    usageEstimated: call.usage !== undefined && !call.usageReported,
    inputTokens: usage.input.total,
    outputTokens: usage.output.total,
    cacheReadTokens: usage.input.cacheRead,
    cacheWriteTokens: usage.input.cacheWrite,
    reasoningTokens: usage.output.reasoning,
    costUsd: cost.costUsd,
    priceSource: cost.source,
    latencyMs: Math.round(call.latencyMs),
    attempts: call.attempts,
    firstByteMs: call.firstByteMs === undefined ? null : Math.round(call.firstByteMs),
    createdAt: call.receivedAt,
  });
  return cost.costUsd;
}

function priceOf(usage: Usage, answeredModel: string, requestedModel: string, servedBy: RouteCandidate) {
  const overrides = servedBy.target.priceOverrides;
  // An override names the model as the admin knows it, so it wins under either name.
  const override = overrides[requestedModel] ?? overrides[answeredModel];
  if (override)
    return costOf(usage, requestedModel, servedBy.adapter.priceCatalogueId, { [requestedModel]: override });
  const priced = costOf(usage, answeredModel, servedBy.adapter.priceCatalogueId);
  if (priced.source !== 'unpriced' || answeredModel === requestedModel) return priced;
  return costOf(usage, requestedModel, servedBy.adapter.priceCatalogueId);
}
