import { GatewayError } from '@gatehouse/core';
import type { Dispatcher } from 'undici';
import { RefusedAddressError } from '../../security/outbound-networks.js';
import { CredentialUnavailableError, type UpstreamRequest } from '../providers/types.js';
import type { CircuitBreakers } from './circuit-breaker.js';
import type { RouteCandidate } from './routing.js';
import type { UpstreamClient } from './upstream.js';

/** One try at one credential, as the usage event records it. */
export interface Attempt {
  providerId: string;
  /** The upstream's status, when it answered. */
  status: number | undefined;
  /** Why the attempt did not serve the call (transport failure, open breaker). */
  errorCode: string | undefined;
  latencyMs: number;
}

/**
 * Every credential failed: the error the client gets, carrying the attempts that led to it so the
 * usage event still records each one.
 */
export class DispatchFailure extends GatewayError {
  readonly attempts: Attempt[];

  constructor(failure: GatewayError, attempts: Attempt[]) {
    super(failure.code, failure.message, { cause: failure.cause, headers: failure.headers });
    this.attempts = attempts;
  }
}

export interface DispatchOptions {
  upstream: UpstreamClient;
  breakers: CircuitBreakers;
  signal: AbortSignal;
  /** Extra tries on the last credential in the chain, for a 429/5xx whose retry-after is short. */
  lastCredentialRetries: number;
  /** Longest wait for such a retry; a longer retry-after goes back to the client at once. */
  maxRetryDelayMs: number;
  /** Builds the request for one credential (the body may differ per provider dialect). */
  prepare(candidate: RouteCandidate): Promise<UpstreamRequest>;
}

export interface Dispatched {
  response: Dispatcher.ResponseData;
  /** The request that got this response (its adapter's warnings included). */
  request: UpstreamRequest;
  servedBy: RouteCandidate;
  attempts: Attempt[];
}

/**
 * Tries the route's credentials in order. Falls back on connect errors, timeouts before the
 * first byte, 429 and 5xx, and a credential that cannot be readied; never on the caller's own
 * 4xx, and never once a response is being relayed (the caller only gets a response here after
 * its headers arrived). The coding tools retry 429 and 5xx themselves, so the same credential
 * is retried only when it is the last one left, retries are configured, and the provider named a
 * wait no longer than `maxRetryDelayMs`.
 */
export async function dispatchWithFallback(
  candidates: RouteCandidate[],
  options: DispatchOptions,
): Promise<Dispatched> {
  const attempts: Attempt[] = [];
  const usable = candidates.filter((candidate) => options.breakers.blockedFor(candidate.target.id) === 0);
  if (usable.length === 0) {
    const wait = Math.min(...candidates.map((candidate) => options.breakers.blockedFor(candidate.target.id)));
    throw new GatewayError(
      'no_provider',
      'Every provider that serves this model is failing; try again shortly.',
      {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))) },
      },
    );
  }
  let lastFailure: unknown;
  for (let index = 0; index < usable.length; index++) {
    const candidate = usable[index] as RouteCandidate;
    const isLast = index === usable.length - 1;
    let retriesLeft = isLast ? options.lastCredentialRetries : 0;
    for (;;) {
      const started = performance.now();
      let response: Dispatcher.ResponseData;
      // Building the request is the gateway's own work on the caller's input: whatever fails here
      // (a 400 for the input, or our own 500) is no fault of the provider and never reaches its
      // breaker, or one caller could take a credential down for everyone. The exception is a
      // credential that cannot be readied (no token could be minted): that one is its own.
      let request: UpstreamRequest;
      try {
        request = await options.prepare(candidate);
      } catch (error) {
        if (!(error instanceof CredentialUnavailableError)) throw error;
        options.breakers.recordFailure(candidate.target.id);
        attempts.push(attemptOf(candidate, undefined, 'upstream_unreachable', started));
        lastFailure = new GatewayError('upstream_unreachable', error.message, { cause: error });
        break;
      }
      try {
        response = await options.upstream.send(request, options.signal);
      } catch (error) {
        if (options.signal.aborted) throw error;
        if (error instanceof GatewayError) throw error;
        options.breakers.recordFailure(candidate.target.id);
        attempts.push(attemptOf(candidate, undefined, transportCode(error), started));
        lastFailure =
          error instanceof RefusedAddressError
            ? new GatewayError(
                'upstream_unreachable',
                `The provider '${candidate.target.name}' points at an address Gatehouse may not call (${error.network}); an administrator must change its base URL or allow that network.`,
                { cause: error },
              )
            : error;
        break;
      }
      const status = response.statusCode;
      if (
        status < 300 &&
        !speaksAnApi(response.headers['content-type'], candidate.adapter.streamContentType)
      ) {
        await response.body.dump().catch(() => {});
        options.breakers.recordFailure(candidate.target.id);
        attempts.push(attemptOf(candidate, status, 'upstream_invalid_response', started));
        lastFailure = new GatewayError(
          'upstream_invalid_response',
          `The provider '${candidate.target.name}' answered with ${contentTypeOf(response.headers['content-type'])} instead of its API's JSON or stream; check its base URL.`,
        );
        break;
      }
      if (!isRetryableStatus(status)) {
        options.breakers.recordSuccess(candidate.target.id);
        attempts.push(attemptOf(candidate, status, undefined, started));
        return { response, request, servedBy: candidate, attempts };
      }
      options.breakers.recordFailure(candidate.target.id);
      attempts.push(attemptOf(candidate, status, undefined, started));
      const delay = retryDelayMs(response.headers['retry-after']);
      if (!isLast || (retriesLeft > 0 && delay !== undefined && delay <= options.maxRetryDelayMs)) {
        await response.body.dump().catch(() => {});
        if (isLast) {
          retriesLeft -= 1;
          await sleep(delay ?? 0, options.signal);
          continue;
        }
        break;
      }
      // The last credential failed: its own answer (status, retry-after, body) is the most useful one.
      return { response, request, servedBy: candidate, attempts };
    }
  }
  throw new DispatchFailure(upstreamFailure(lastFailure, attempts), attempts);
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function attemptOf(
  candidate: RouteCandidate,
  status: number | undefined,
  errorCode: string | undefined,
  started: number,
): Attempt {
  return {
    providerId: candidate.target.id,
    status,
    errorCode,
    latencyMs: Math.round(performance.now() - started),
  };
}

/** The wait a provider asked for, from a numeric or HTTP-date retry-after; undefined if none. */
function retryDelayMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function transportCode(error: unknown): string {
  const code = (error as { code?: string }).code ?? '';
  return code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT'
    ? 'upstream_timeout'
    : 'upstream_unreachable';
}

/**
 * JSON answers and event streams (SSE, or the adapter's own stream framing) are what every
 * provider API speaks.
 */
function speaksAnApi(contentType: string | string[] | undefined, ownStreamType: string | undefined): boolean {
  const type = contentTypeOf(contentType);
  return (
    type === 'none' ||
    type === 'text/event-stream' ||
    type === ownStreamType ||
    type === 'application/json' ||
    type.endsWith('+json')
  );
}

function contentTypeOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(';')[0]?.trim().toLowerCase() || 'none';
}

/** Maps the last transport failure to our error, without echoing upstream addresses or details. */
function upstreamFailure(error: unknown, attempts: Attempt[]): GatewayError {
  if (error instanceof GatewayError) return error;
  const tried = attempts.length > 1 ? ` (${attempts.length} providers tried)` : '';
  if (transportCode(error) === 'upstream_timeout') {
    return new GatewayError('upstream_timeout', `The provider did not answer in time${tried}.`, {
      cause: error,
    });
  }
  return new GatewayError('upstream_unreachable', `The provider could not be reached${tried}.`, {
    cause: error,
  });
}
