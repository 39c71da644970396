import { type ApiKind, type ClientTool, emptyUsage, type Usage } from '@gatehouse/core';
import type { UsageLedger } from '../../store/usage-ledger.js';
import type { ResolvedKey } from '../auth/authenticator.js';
import type { Attempt } from '../dispatch/dispatch.js';
import type { RouteCandidate } from '../dispatch/routing.js';
import { costUnder, type Pricing, priceFor } from './pricing.js';

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
  /** The coding tool its User-Agent names (core `clientToolFromUserAgent`), or null. */
  clientTool: ClientTool | null;
  /** Told when a served model has no price (once per model and credential). */
  reportUnpriced?: UnpricedReporter | undefined;
}

/** Told once per served model that has no price, so an admin learns of it without a flood. */
export type UnpricedReporter = (details: { model: string; provider: string }) => void;

/**
 * Prices the call and hands one usage event to the ledger; the write happens later, in a batch.
 * Returns the cost, which admission settles the call's reservation to. A served call with no
 * known price is marked `unpriced` (its cost is unknown, not 0) and reported.
 */
export function meter(ledger: UsageLedger, call: MeteredCall): number {
  const usage = call.usage ?? emptyUsage();
  const pricing: Pricing = call.servedBy
    ? priceFor(call.servedBy, call.model, call.upstreamModel ?? call.model)
    : { source: 'unpriced' };
  // Only a call a provider served can lack a price: a refused one cost nothing and is not unpriced.
  const unpriced = call.servedBy !== undefined && pricing.source === 'unpriced';
  if (unpriced && call.reportUnpriced && call.servedBy)
    reportOnce(call.reportUnpriced, call.model, call.servedBy);
  const cost = { costUsd: costUnder(pricing, usage), source: pricing.source };
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
    unpriced,
    latencyMs: Math.round(call.latencyMs),
    attempts: call.attempts,
    firstByteMs: call.firstByteMs === undefined ? null : Math.round(call.firstByteMs),
    clientTool: call.clientTool,
    createdAt: call.receivedAt,
  });
  return cost.costUsd;
}

/** Models already reported as unpriced, per credential: the log says it once, not per call. */
const reportedUnpriced = new Set<string>();

function reportOnce(report: UnpricedReporter, model: string, servedBy: RouteCandidate): void {
  const key = `${servedBy.target.id}\u0000${model}`;
  if (reportedUnpriced.has(key)) return;
  if (reportedUnpriced.size >= 10_000) reportedUnpriced.clear();
  reportedUnpriced.add(key);
  report({ model, provider: servedBy.target.name });
}
