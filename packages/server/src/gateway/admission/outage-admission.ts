import { GatewayError } from '@gatehouse/core';
import type { StorageOutageMode } from '../../store/schema.js';
import { type Admission, admitEverything } from './admission.js';

/** How long a client is asked to wait when budgets cannot be checked. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

export interface OutageOptions {
  /** The organisation's choice; `closed` when it cannot be read either. */
  modeOf(organizationId: string): Promise<StorageOutageMode>;
  /** Told of each failure, to log it briefly. */
  onOutage(error: unknown, mode: StorageOutageMode): void;
}

/**
 * Rate limits and budgets need the hot state and the database. When either cannot be reached,
 * a call is not silently treated as free: the organisation decides. `closed` (the default)
 * refuses it with 503 and `retry-after`, in the caller's dialect like every gateway error;
 * `open` serves it without budget or rate-limit checks (its usage is still metered and counted
 * once storage is back). A refusal admission makes on purpose (402, 429) is never mistaken for
 * an outage: only errors that are not GatewayErrors are.
 */
export function admitThroughOutages(admission: Admission, options: OutageOptions): Admission {
  return {
    async admit(request) {
      try {
        return await admission.admit(request);
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        const mode = await options.modeOf(request.identity.organizationId).catch(() => 'closed' as const);
        options.onOutage(error, mode);
        if (mode === 'open') return admitEverything.admit(request);
        throw new GatewayError(
          'storage_unavailable',
          'Budgets and rate limits cannot be checked right now (storage is unreachable); retry shortly.',
          { cause: error, headers: { 'retry-after': String(OUTAGE_RETRY_AFTER_SECONDS) } },
        );
      }
    },
  };
}
