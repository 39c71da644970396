import type { ResolvedKey } from './auth.js';
import type { ParsedCall } from './request-body.js';
import type { ResolvedRoute } from './routing.js';

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
  /** Bytes the provider will read, for estimating input tokens. */
  bodyLength: number;
}

/**
 * Rate limits and budget reservations run here, before any provider is called. A stage that is
 * off is an explicit choice in the wiring (`admitEverything`), never a skipped `undefined`.
 */
export interface Admission {
  /** Refuses with a GatewayError (402, 429) or returns what it holds for the call. */
  admit(request: AdmissionRequest): Promise<AdmissionTicket>;
}

const nothingHeld: AdmissionTicket = {
  headers: {},
  async settle() {},
  async release() {},
};

export const admitEverything: Admission = {
  async admit() {
    return nothingHeld;
  },
};
