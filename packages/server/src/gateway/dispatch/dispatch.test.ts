import { GatewayError } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import type { UpstreamRequest } from '../providers/types.js';
import { CircuitBreakers } from './circuit-breaker.js';
import { DispatchFailure, dispatchWithFallback } from './dispatch.js';
import type { RouteCandidate } from './routing.js';
import type { UpstreamClient } from './upstream.js';

/** Only what dispatch reads of a candidate: its id and name. */
function candidate(id: string): RouteCandidate {
  return { target: { id, name: id } } as RouteCandidate;
}

/** An upstream whose every connection is refused, as undici reports it. */
const refusingUpstream = {
  send: async () => {
    throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  },
} as unknown as UpstreamClient;

describe('dispatchWithFallback', () => {
  it('throws a DispatchFailure that carries one attempt per credential tried', async () => {
    const failure = await dispatchWithFallback([candidate('first'), candidate('second')], {
      upstream: refusingUpstream,
      breakers: new CircuitBreakers(),
      signal: new AbortController().signal,
      lastCredentialRetries: 0,
      maxRetryDelayMs: 0,
      prepare: async () => ({}) as UpstreamRequest,
    }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(DispatchFailure);
    expect(failure).toBeInstanceOf(GatewayError);
    const { code, attempts } = failure as DispatchFailure;
    expect(code).toBe('upstream_unreachable');
    expect(attempts.map((attempt) => [attempt.providerId, attempt.errorCode])).toEqual([
      ['first', 'upstream_unreachable'],
      ['second', 'upstream_unreachable'],
    ]);
  });
});
