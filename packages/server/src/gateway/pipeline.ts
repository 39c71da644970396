import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { type ApiKind, type Dialect, dialectOfApi, GatewayError, renderErrorBody } from '@gatehouse/core';
import type { Dispatcher } from 'undici';
import type { UsageLedger } from '../store/usage-ledger.js';
import type { Admission } from './admission.js';
import type { Authenticator, ResolvedKey } from './auth.js';
import { keyFromRequest } from './credentials.js';
import { meter } from './metering.js';
import { relayResponse } from './relay.js';
import { type ParsedCall, parseCallBody } from './request-body.js';
import { type RouteCandidate, resolveRoute } from './routing.js';
import type { UpstreamClient } from './upstream.js';

/** What the pipeline is built from; assembled once in the wiring. */
export interface GatewayDependencies {
  authenticator: Authenticator;
  admission: Admission;
  upstream: UpstreamClient;
  ledger: UsageLedger;
  /** Where platform faults are reported; upstream and client errors are not logged per request. */
  reportFault(error: unknown, requestId: string): void;
}

/** One client call as the HTTP layer hands it over. */
export interface GatewayCall {
  api: ApiKind;
  requestId: string;
  headers: IncomingHttpHeaders;
  /** The URL's query string including `?`, or ''. */
  search: string;
  body: Buffer | undefined;
  response: ServerResponse;
  /** `performance.now()` when the request arrived. */
  startedAt: number;
  receivedAt: Date;
}

/**
 * A model call through the gateway, stage by stage. The order matters:
 *  1. authenticate — first, so nothing else is spent on a caller without a valid key;
 *  2. parse        — read only what routing needs (model, stream) from the body;
 *  3. resolve      — aliases, then the policy's credentials that can serve the model;
 *  4. admit        — rate limits and budget reservations, once the cost can be estimated;
 *  5. dispatch     — call the provider; the client's disconnect aborts it;
 *  6. relay        — stream or forward the answer, tapping usage on the way;
 *  7. meter        — price the usage and hand the event to the ledger, off the hot path.
 * Any stage may throw a GatewayError; it is answered in the caller's own dialect.
 */
export async function handleModelCall(dependencies: GatewayDependencies, call: GatewayCall): Promise<void> {
  let identity: ResolvedKey | undefined;
  let parsed: ParsedCall | undefined;
  let model: string | undefined;
  let servedBy: RouteCandidate | undefined;
  try {
    identity = await dependencies.authenticator.authenticate(
      keyFromRequest(call.headers, searchParams(call.search)),
    );
    parsed = parseCallBody(call.api, call.body);
    const route = resolveRoute(identity.policy, call.api, parsed.model);
    model = route.model;
    await dependencies.admission.admit(identity, parsed);

    servedBy = route.candidates[0];
    if (!servedBy) throw new GatewayError('no_provider', 'No provider can serve this request.');
    const { body, stripUsageChunk } = upstreamBody(call, parsed, route.model);
    const abort = abortOnClientClose(call.response);
    const request = servedBy.adapter.buildRequest(servedBy.target, {
      api: call.api,
      search: call.search,
      headers: call.headers,
    });
    const upstream = await sendUpstream(dependencies.upstream, request, body, abort.signal);
    const outcome = await relayResponse(upstream, {
      api: call.api,
      response: call.response,
      ownHeaders: ownHeaders(call.requestId, servedBy),
      startedAt: call.startedAt,
      stripUsageChunk,
      estimatedInputTokens: Math.ceil(body.length / 4),
    });
    meter(dependencies.ledger, {
      requestId: call.requestId,
      api: call.api,
      identity,
      model,
      upstreamModel: outcome.upstreamModel,
      servedBy,
      status: outcome.status,
      errorCode: outcome.interruption,
      streamed: outcome.streamed,
      usage: outcome.usage,
      usageReported: outcome.usageReported,
      latencyMs: performance.now() - call.startedAt,
      firstByteMs: outcome.firstByteMs,
      receivedAt: call.receivedAt,
    });
  } catch (error) {
    const gatewayError = toGatewayError(error);
    if (gatewayError.fault === 'platform' && gatewayError.code === 'internal') {
      dependencies.reportFault(error, call.requestId);
    }
    if (!call.response.headersSent && !call.response.destroyed) {
      sendGatewayError(call.response, dialectOfApi[call.api], gatewayError, call.requestId);
    }
    if (identity && parsed) {
      meter(dependencies.ledger, {
        requestId: call.requestId,
        api: call.api,
        identity,
        model: model ?? parsed.model,
        upstreamModel: undefined,
        servedBy,
        status: call.response.destroyed && !call.response.headersSent ? 499 : gatewayError.status,
        errorCode: gatewayError.code,
        streamed: parsed.stream,
        usage: undefined,
        usageReported: false,
        latencyMs: performance.now() - call.startedAt,
        firstByteMs: undefined,
        receivedAt: call.receivedAt,
      });
    }
  }
}

function searchParams(search: string): URLSearchParams | undefined {
  return search === '' ? undefined : new URLSearchParams(search);
}

/**
 * The body as the provider should get it: the client's own bytes unless the gateway must change
 * something — a model alias, or OpenAI's usage chunk that metering needs on every stream.
 */
function upstreamBody(
  call: GatewayCall,
  parsed: ParsedCall,
  model: string,
): { body: Buffer; stripUsageChunk: boolean } {
  const original = call.body as Buffer;
  const addUsageChunk = call.api === 'openai-chat' && parsed.stream && !parsed.clientWantsStreamUsage;
  if (!addUsageChunk && model === parsed.model) return { body: original, stripUsageChunk: false };
  const rewritten: Record<string, unknown> = { ...parsed.json, model };
  if (addUsageChunk) {
    const options = typeof parsed.json.stream_options === 'object' ? parsed.json.stream_options : {};
    rewritten.stream_options = { ...options, include_usage: true };
  }
  return { body: Buffer.from(JSON.stringify(rewritten)), stripUsageChunk: addUsageChunk };
}

function ownHeaders(requestId: string, servedBy: RouteCandidate): Record<string, string> {
  return { 'x-gatehouse-request-id': requestId, 'x-gatehouse-provider': servedBy.target.name };
}

function abortOnClientClose(response: ServerResponse): AbortController {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller;
}

async function sendUpstream(
  upstream: UpstreamClient,
  request: Parameters<UpstreamClient['send']>[0],
  body: Buffer,
  signal: AbortSignal,
): Promise<Dispatcher.ResponseData> {
  try {
    return await upstream.send(request, body, signal);
  } catch (error) {
    throw upstreamFailure(error);
  }
}

/** Maps a transport failure to our error codes, without echoing upstream addresses or details. */
function upstreamFailure(error: unknown): GatewayError {
  const code = (error as { code?: string }).code ?? '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new GatewayError('upstream_timeout', 'The provider did not answer in time.', { cause: error });
  }
  return new GatewayError('upstream_unreachable', 'The provider could not be reached.', { cause: error });
}

export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('internal', 'Internal gateway error.', { cause: error });
}

export function sendGatewayError(
  response: ServerResponse,
  dialect: Dialect,
  error: GatewayError,
  requestId: string,
): void {
  const body = JSON.stringify(renderErrorBody(dialect, error, requestId));
  const headers: Record<string, string | number> = {
    ...error.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-gatehouse-request-id': requestId,
  };
  if (error.code === 'budget_exhausted') headers['x-should-retry'] = 'false';
  response.writeHead(error.status, headers);
  response.end(body);
}
