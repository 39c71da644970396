import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import {
  type ApiKind,
  clientToolFromUserAgent,
  createSseDecoder,
  type Dialect,
  dialectOfApi,
  GatewayError,
  renderErrorBody,
  type StreamRenderer,
  type TranslationWarning,
  tokensForCharacters,
  type WireDialect,
} from '@gatehouse/core';
import type { IdentityTokens } from '../security/identity-tokens.js';
import type { UsageLedger } from '../store/usage-ledger.js';
import {
  type Admission,
  type AdmissionTicket,
  admitEverything,
  type CallEstimate,
  estimateCall,
} from './admission/admission.js';
import { composeAdmissions } from './admission/compose-admission.js';
import { admitThroughOutages, type OutageOptions } from './admission/outage-admission.js';
import type { Authenticator, ResolvedKey } from './auth/authenticator.js';
import { keyFromRequest } from './auth/client-key.js';
import type { CallsInFlight } from './calls-in-flight.js';
import { CallPreparation } from './dispatch/call-preparation.js';
import type { CircuitBreakers } from './dispatch/circuit-breaker.js';
import { type Attempt, DispatchFailure, dispatchWithFallback } from './dispatch/dispatch.js';
import { type ResolvedRoute, type RouteCandidate, resolveRoute } from './dispatch/routing.js';
import type { UpstreamClient } from './dispatch/upstream.js';
import { answerEstimatedCount, isCountTokensApi } from './http/count-tokens.js';
import { type ParsedCall, parseCallBody } from './http/request-body.js';
import { meter, type UnpricedReporter } from './metering/metering.js';
import { priceFor, UNPRICED_WARNING } from './metering/pricing.js';
import { type RelayOutcome, relayResponse } from './relay/relay.js';
import {
  codecFor,
  createGeminiJsonArrayRenderer,
  createOpenAiChatStreamRendererWith,
} from './relay/translation/codecs.js';
import { relayTranslated, type TranslatedRelayContext } from './relay/translation/relay-translated.js';
import { WARNINGS_HEADER, warningsHeaderValue } from './relay/translation/warnings.js';

/** What the pipeline is built from; assembled once in the wiring. */
export interface GatewayDependencies {
  authenticator: Authenticator;
  admission: AdmissionStages;
  upstream: UpstreamClient;
  breakers: CircuitBreakers;
  ledger: UsageLedger;
  /** Every model call is counted here until it is metered and settled. */
  callsInFlight: CallsInFlight;
  /** Extra tries on the last credential of a chain for a 429/5xx with a short retry-after. */
  lastCredentialRetries: number;
  maxRetryDelayMs: number;
  /** Signs the caller's identity for upstreams trusted to receive it. */
  identityTokens: Pick<IdentityTokens, 'tokenFor'>;
  /** Silence after which a translated stream to an Anthropic client gets a ping. */
  streamKeepAliveMs: number;
  /** Where platform faults are reported; upstream and client errors are not logged per request. */
  reportFault(error: unknown, requestId: string): void;
  /** Where a served model without a price is reported (once per model and credential). */
  reportUnpriced?: UnpricedReporter;
}

/** The admission checks; `admitInOrder` says in which order they run, and why. */
export interface AdmissionStages {
  rateLimits: Admission;
  budgets: Admission;
  /** What to do when storage cannot answer the checks (the organisation's choice). */
  outages: OutageOptions;
}

/** One client call as the HTTP layer hands it over. */
export interface GatewayCall {
  api: ApiKind;
  requestId: string;
  headers: IncomingHttpHeaders;
  /** The URL's query string including `?`, or ''. */
  search: string;
  body: Buffer | undefined;
  /** Model and streaming mode named in the URL (Gemini's `models/{model}:streamGenerateContent`). */
  fromPath?: { model: string; stream: boolean } | undefined;
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
export function handleModelCall(dependencies: GatewayDependencies, call: GatewayCall): Promise<void> {
  return dependencies.callsInFlight.track(() => serveModelCall(dependencies, call));
}

async function serveModelCall(dependencies: GatewayDependencies, call: GatewayCall): Promise<void> {
  let identity: ResolvedKey | undefined;
  let parsed: ParsedCall | undefined;
  let model: string | undefined;
  let attempts: Attempt[] = [];
  let servedBy: RouteCandidate | undefined;
  let ticket: AdmissionTicket | undefined;
  /** How the call ended: an answer relayed to the client, or a failure answered in its dialect. */
  let served: RelayOutcome | undefined;
  let failure: GatewayError | undefined;
  try {
    identity = await dependencies.authenticator.authenticate(
      keyFromRequest(call.headers, searchParams(call.search)),
    );
    parsed = parseCallBody(call.api, call.body, call.fromPath);
    let route: ResolvedRoute;
    try {
      route = resolveRoute(identity.policy, call.api, parsed.model);
    } catch (error) {
      const countable =
        error instanceof GatewayError &&
        error.code === 'model_not_found' &&
        servesGeneration(identity.policy, call.api, parsed.model);
      if (!countable || !isCountTokensApi(call.api)) throw error;
      answerEstimatedCount(call.response, call.api, parsed.body, {
        'x-gatehouse-request-id': call.requestId,
      });
      return;
    }
    model = route.model;
    const caller = identity;
    const preparation = new CallPreparation({
      api: call.api,
      search: call.search,
      headers: call.headers,
      parsed,
      model,
      identityToken: () => dependencies.identityTokens.tokenFor(caller),
      upstream: dependencies.upstream,
    });
    // Counting tokens is free and spends nothing: no budget or rate limit to hold it to.
    const counting = isCountTokensApi(call.api);
    const admission = counting ? admitEverything : admitInOrder(dependencies.admission);
    ticket = await admission.admit({
      identity,
      call: parsed,
      route,
      estimate: counting
        ? estimateCall(parsed.json, parsed.body, undefined)
        : estimateSent(preparation, route, parsed),
    });

    const abort = abortOnClientClose(call.response);
    const dispatched = await dispatchWithFallback(route.candidates, {
      upstream: dependencies.upstream,
      breakers: dependencies.breakers,
      signal: abort.signal,
      lastCredentialRetries: dependencies.lastCredentialRetries,
      maxRetryDelayMs: dependencies.maxRetryDelayMs,
      prepare: (candidate) => preparation.requestFor(candidate),
    }).catch((error: unknown) => {
      if (error instanceof DispatchFailure) attempts = error.attempts;
      throw error;
    });
    attempts = dispatched.attempts;
    servedBy = dispatched.servedBy;
    const estimatedInputTokens = tokensForCharacters(preparation.bodyLengthFor(servedBy));
    // Admission let an unpriced call through only because no block budget applies; say so.
    const unpriced = priceFor(servedBy, model).source === 'unpriced';
    const rendering = reRenderingOf(servedBy, call, parsed);
    const outcome = rendering
      ? await relayTranslated(
          dispatched.response,
          translationContext({
            call,
            parsed,
            servedBy,
            rendering,
            admissionHeaders: ticket.headers,
            requestWarnings: [
              ...preparation.warningsFor(servedBy),
              ...(dispatched.request.warnings ?? []),
              ...(unpriced ? [UNPRICED_WARNING] : []),
            ],
            estimatedInputTokens,
            keepAliveMs: dependencies.streamKeepAliveMs,
          }),
        )
      : await relayResponse(dispatched.response, {
          api: call.api,
          response: call.response,
          ownHeaders: {
            ...ownHeaders(call.requestId, servedBy, ticket.headers),
            ...(unpriced ? { [WARNINGS_HEADER]: warningsHeaderValue([UNPRICED_WARNING]) as string } : {}),
          },
          startedAt: call.startedAt,
          stripUsageChunk: preparation.stripUsageChunk,
          estimatedInputTokens,
        });
    served = outcome;
  } catch (error) {
    failure = toGatewayError(error);
    if (failure.fault === 'platform' && failure.code === 'internal') {
      dependencies.reportFault(error, call.requestId);
    }
    if (!call.response.headersSent && !call.response.destroyed) {
      sendGatewayError(call.response, dialectOfApi[call.api], failure, call.requestId);
    } else if (!call.response.destroyed && !call.response.writableEnded) {
      // Failed after the headers went out: all that can still be said is that the stream broke.
      call.response.destroy();
    }
    await ticket?.release().catch((problem: unknown) => dependencies.reportFault(problem, call.requestId));
  }
  // A call without a valid key or a readable body belongs to nobody: there is nothing to meter.
  if (!identity || !parsed) return;
  const costUsd = meter(dependencies.ledger, {
    requestId: call.requestId,
    api: call.api,
    identity,
    model: model ?? parsed.model,
    upstreamModel: served?.upstreamModel,
    servedBy,
    attempts,
    status:
      served?.status ??
      (call.response.destroyed && !call.response.headersSent ? 499 : (failure?.status ?? 500)),
    errorCode: served ? served.interruption : failure?.code,
    streamed: served?.streamed ?? parsed.stream,
    usage: served?.usage,
    usageReported: served?.usageReported ?? false,
    latencyMs: performance.now() - call.startedAt,
    firstByteMs: served?.firstByteMs,
    receivedAt: call.receivedAt,
    // Read here, after the answer went out, so the client never waits for it.
    clientTool: clientToolFromUserAgent(call.headers['user-agent']),
    reportUnpriced: dependencies.reportUnpriced,
  });
  if (!served || !ticket) return;
  // Written ahead: the counter is charged only once a crash can no longer lose the event, so
  // counter and ledger cannot part ways. The client is not kept waiting for the disk: a crash
  // within that one sync loses the event like any call still in flight, and charges nothing
  // for it. A spool that failed is reported; the event is still pending for the database, so
  // the call is charged all the same.
  await dependencies.ledger
    .durable()
    .catch((error: unknown) => dependencies.reportFault(error, call.requestId));
  await ticket.settle(costUsd).catch((error: unknown) => dependencies.reportFault(error, call.requestId));
}

/**
 * Rate limits first: they are cheap counters, and a call they refuse must not reserve budget
 * (a reservation would hold money for a call that never runs). Budgets then reserve the call's
 * estimate. Both need storage; when it cannot answer, the organisation's outage mode decides
 * (refuse with 503, or serve unchecked) instead of treating the call as free.
 */
function admitInOrder(stages: AdmissionStages): Admission {
  return admitThroughOutages(composeAdmissions([stages.rateLimits, stages.budgets]), stages.outages);
}

/**
 * The call as its first credential will receive it. A body that cannot be rendered for that
 * credential is estimated from the client's; dispatch reports the failure if it gets there.
 */
function estimateSent(preparation: CallPreparation, route: ResolvedRoute, parsed: ParsedCall): CallEstimate {
  const first = route.candidates[0];
  if (!first) return estimateCall(parsed.json, parsed.body, undefined);
  try {
    const sent = preparation.sentFor(first);
    return estimateCall(parsed.json, sent.body, sent.json);
  } catch {
    return estimateCall(parsed.json, parsed.body, undefined);
  }
}

/** The dialects an answer is read in and written back in, when it is not passed through. */
interface ReRendering {
  client: WireDialect;
  provider: WireDialect;
}

/**
 * A translated answer is re-rendered from the provider's dialect into the client's. So is one
 * case of the client's own API: a Gemini client streaming without `alt=sse` wants Google's JSON
 * array, while providers are asked for SSE (what the stream parsers read). Anything else passes
 * through.
 */
function reRenderingOf(
  servedBy: RouteCandidate,
  call: GatewayCall,
  parsed: ParsedCall,
): ReRendering | undefined {
  if (servedBy.translated) return { client: servedBy.clientDialect, provider: servedBy.dialect };
  if (
    call.api === 'gemini-generate' &&
    parsed.stream &&
    !new URLSearchParams(call.search).has('alt', 'sse')
  ) {
    return { client: 'gemini', provider: 'gemini' };
  }
  return undefined;
}

interface TranslationInput {
  call: GatewayCall;
  parsed: ParsedCall;
  servedBy: RouteCandidate;
  rendering: ReRendering;
  /** Admission's headers (the tightest budget's remaining amount). */
  admissionHeaders: Record<string, string>;
  /** What translating the request, the provider and pricing had to say. */
  requestWarnings: TranslationWarning[];
  estimatedInputTokens: number;
  /** Silence after which a stream to an Anthropic client gets a ping. */
  keepAliveMs: number;
}

function translationContext(input: TranslationInput): TranslatedRelayContext {
  const { call, parsed, servedBy, rendering, admissionHeaders, requestWarnings } = input;
  const clientCodec = codecFor(rendering.client);
  const providerCodec = codecFor(rendering.provider);
  const warnings = [
    ...requestWarnings,
    ...(servedBy.adapter.requestWarnings?.(call.headers, servedBy.dialect) ?? []),
  ];
  const clientStream = clientStreamShape(call, parsed);
  return {
    response: call.response,
    ownHeaders: ownHeaders(call.requestId, servedBy, admissionHeaders),
    startedAt: call.startedAt,
    requestId: call.requestId,
    clientDialect: dialectOfApi[call.api],
    clientCodec,
    providerCodec,
    createRenderer: clientStream.createRenderer ?? (() => clientCodec.createStreamRenderer()),
    streamContentType: clientStream.contentType,
    createDecoder: servedBy.adapter.createStreamDecoder
      ? () => servedBy.adapter.createStreamDecoder?.(servedBy.dialect) ?? createSseDecoder()
      : undefined,
    requestWarnings: warnings,
    estimatedInputTokens: input.estimatedInputTokens,
    // Anthropic clients (Claude Code) give up on a quiet stream; providers like Bedrock send no pings.
    keepAliveMs: call.api === 'anthropic-messages' ? input.keepAliveMs : undefined,
  };
}

/**
 * How the client's stream is written: Gemini streams as SSE only with `alt=sse`, otherwise as
 * one JSON array written piece by piece; OpenAI chat carries the usage chunk only if asked for.
 */
function clientStreamShape(
  call: GatewayCall,
  parsed: ParsedCall,
): { contentType: string; createRenderer?: () => StreamRenderer } {
  if (call.api === 'gemini-generate' && !new URLSearchParams(call.search).has('alt', 'sse')) {
    return { contentType: 'application/json; charset=UTF-8', createRenderer: createGeminiJsonArrayRenderer };
  }
  if (call.api === 'openai-chat') {
    const includeUsage = parsed.clientWantsStreamUsage;
    return {
      contentType: 'text/event-stream; charset=utf-8',
      createRenderer: () => createOpenAiChatStreamRendererWith({ includeUsage }),
    };
  }
  return { contentType: 'text/event-stream; charset=utf-8' };
}

/** Whether the model can be generated with, so that estimating its token count makes sense. */
function servesGeneration(policy: ResolvedKey['policy'], countApi: ApiKind, model: string): boolean {
  try {
    resolveRoute(
      policy,
      countApi === 'gemini-count-tokens' ? 'gemini-generate' : 'anthropic-messages',
      model,
    );
    return true;
  } catch {
    return false;
  }
}

function searchParams(search: string): URLSearchParams | undefined {
  return search === '' ? undefined : new URLSearchParams(search);
}

function ownHeaders(
  requestId: string,
  servedBy: RouteCandidate,
  admissionHeaders: Record<string, string>,
): Record<string, string> {
  return {
    ...admissionHeaders,
    'x-gatehouse-request-id': requestId,
    'x-gatehouse-provider': servedBy.target.name,
  };
}

function abortOnClientClose(response: ServerResponse): AbortController {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller;
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
