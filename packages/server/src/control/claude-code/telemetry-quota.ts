import { GatewayError } from '@gatehouse/core';
import type { HotState } from '../../hot-state/types.js';

/** How much OTLP telemetry one key and one organisation may send. */
export interface TelemetryLimits {
  /** Bytes per minute from one key. */
  keyBytesPerMinute: number;
  /** Bytes per minute from every key of one organisation together. */
  organizationBytesPerMinute: number;
}

const MINUTE_MS = 60_000;

/**
 * Telemetry is stored as received, so without a quota one key could fill the database (a 30 MiB
 * batch many times a second). Each batch's size is charged, across instances, against its key's
 * and its organisation's per-minute allowance (GCRA in the hot state, as model-call rate limits).
 */
export class TelemetryQuota {
  readonly #hotState: HotState;
  readonly #limits: TelemetryLimits;

  constructor(hotState: HotState, limits: TelemetryLimits) {
    this.#hotState = hotState;
    this.#limits = limits;
  }

  /** Charges a batch; throws a 429 with `retry-after` when either allowance is spent. */
  async charge(caller: { keyId: string; organizationId: string }, bytes: number): Promise<void> {
    const result = await this.#hotState.consumeRate([
      {
        key: `telemetry:key:${caller.keyId}`,
        limit: this.#limits.keyBytesPerMinute,
        windowMs: MINUTE_MS,
        cost: Math.min(bytes, this.#limits.keyBytesPerMinute),
      },
      {
        key: `telemetry:org:${caller.organizationId}`,
        limit: this.#limits.organizationBytesPerMinute,
        windowMs: MINUTE_MS,
        cost: Math.min(bytes, this.#limits.organizationBytesPerMinute),
      },
    ]);
    if (result.ok) return;
    const retryAfter = String(Math.max(1, Math.ceil(result.retryAfterMs / 1000)));
    const whose = result.key.startsWith('telemetry:key:') ? 'this key' : 'this organisation';
    throw new GatewayError(
      'rate_limited',
      `Telemetry quota for ${whose} is used up for now. Retry after ${retryAfter} seconds.`,
      { headers: { 'retry-after': retryAfter } },
    );
  }
}
