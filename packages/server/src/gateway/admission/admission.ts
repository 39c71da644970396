import { estimateTokens, isRecord } from '@gatehouse/core';
import type { ResolvedKey } from '../auth/authenticator.js';
import type { ResolvedRoute } from '../dispatch/routing.js';
import type { ParsedCall } from '../http/request-body.js';

/** What admission holds for one call until it is settled: released if the call never ran. */
export interface AdmissionTicket {
  /** Response headers that report the holding (the tightest budget's remaining amount). */
  headers: Record<string, string>;
  /** Charges the call's actual cost and frees what was reserved. */
  settle(actualCostUsd: number): Promise<void>;
  /** Frees what was reserved without charging (the call failed before any provider answered). */
  release(): Promise<void>;
}

export interface AdmissionRequest {
  identity: ResolvedKey;
  call: ParsedCall;
  route: ResolvedRoute;
  /** The call's size as the provider will receive it (`estimateCall`). */
  estimate: CallEstimate;
}

/**
 * The one pre-dispatch estimate of a call, made from the body as the gateway sends it, so it
 * counts what the gateway itself adds (an alias, the usage chunk it asks for, a translated body
 * larger than the client's, a `max_tokens` a target dialect requires). Budgets and rate limits
 * both read it.
 */
export interface CallEstimate {
  /** Input tokens: `estimateTokens` over the bytes sent (bytes, not characters: never less). */
  inputTokens: number;
  /** The output bound the provider is held to, if the body sent names one. */
  outputBound: number | undefined;
  /** Whether the client named that bound itself, rather than the gateway adding it. */
  clientNamedBound: boolean;
}

/** The output bounds each dialect names, where its request body holds them. */
function outputBoundOf(json: Record<string, unknown>): number | undefined {
  const nested = (field: string, name: string): unknown => {
    const holder = json[field];
    return isRecord(holder) ? holder[name] : undefined;
  };
  const candidates = [
    json.max_tokens,
    json.max_completion_tokens,
    json.max_output_tokens,
    nested('generationConfig', 'maxOutputTokens'),
    nested('inferenceConfig', 'maxTokens'),
  ];
  return candidates.find((value): value is number => typeof value === 'number' && value > 0);
}

/**
 * Estimates the call from the client's parsed body and the body that will be sent (the same
 * bytes when passed through). `sentJson` is the sent body parsed, when it differs from the
 * client's; undefined means the client's fields stand.
 */
export function estimateCall(
  clientJson: Record<string, unknown>,
  sentBody: Buffer,
  sentJson: Record<string, unknown> | undefined,
): CallEstimate {
  const clientBound = outputBoundOf(clientJson);
  const sentBound = sentJson ? outputBoundOf(sentJson) : clientBound;
  return {
    inputTokens: estimateTokens(sentBody.toString('latin1')),
    outputBound: sentBound,
    clientNamedBound: clientBound !== undefined && sentBound === clientBound,
  };
}

/**
 * Output tokens to hold for a call. A bound the client named is capped (`cap`, so a 32k
 * `max_tokens` does not lock a small budget; the provider rarely uses all of it); no bound means
 * the cap. A bound the gateway added is held in full: the gateway chose it, and the provider may
 * use all of it, so capping it would let concurrent calls overrun a budget by more than a call.
 */
export function reservedOutputTokens(estimate: CallEstimate, cap: number): number {
  if (estimate.outputBound === undefined) return cap;
  return Math.floor(estimate.clientNamedBound ? Math.min(estimate.outputBound, cap) : estimate.outputBound);
}

/**
 * Rate limits and budget reservations run here, before any provider is called. A stage that is
 * off is an explicit choice in the wiring (`admitEverything`), never a skipped `undefined`.
 */
export interface Admission {
  /** Refuses with a GatewayError (402, 429) or returns what it holds for the call. */
  admit(request: AdmissionRequest): Promise<AdmissionTicket>;
}

/** The ticket of a stage that holds nothing for a call: settling or releasing it does nothing. */
export const NOTHING_HELD: AdmissionTicket = {
  headers: {},
  async settle() {},
  async release() {},
};

export const admitEverything: Admission = {
  async admit() {
    return NOTHING_HELD;
  },
};
