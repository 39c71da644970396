import type { ServerResponse } from 'node:http';
import {
  createSseDecoder,
  type Dialect,
  type DialectCodec,
  type StreamRenderer,
  type TranslationWarning,
  type WireEvent,
} from '@gatehouse/core';
import type { Dispatcher } from 'undici';
import { drainedOrClosed, type RelayOutcome } from '../relay.js';
import { passThroughHeaders } from '../response-headers.js';
import { NeutralMeter } from './neutral-meter.js';
import { translateUpstreamError } from './upstream-errors.js';
import { WARNINGS_HEADER, warningsHeaderValue } from './warnings.js';

export interface TranslatedRelayContext {
  response: ServerResponse;
  ownHeaders: Record<string, string>;
  startedAt: number;
  requestId: string;
  clientDialect: Dialect;
  clientCodec: DialectCodec;
  providerCodec: DialectCodec;
  /** Renderer for the client's stream; the client codec's default unless the API needs another. */
  createRenderer: () => StreamRenderer;
  /** Content type of the client's stream (SSE, or JSON for Gemini's array stream). */
  streamContentType: string;
  /** Splits the provider's stream into wire events; SSE unless the provider frames otherwise. */
  createDecoder: (() => (chunk: Uint8Array) => WireEvent[]) | undefined;
  /** Warnings from translating the request, reported with the response's own. */
  requestWarnings: TranslationWarning[];
  estimatedInputTokens: number;
  /** Silence after which a keep-alive is rendered (Anthropic clients time out on quiet streams). */
  keepAliveMs: number | undefined;
}

/**
 * Relays a provider's answer to a client that speaks another dialect: bodies through the
 * neutral model, streams event by event as they arrive (never buffered whole), errors with the
 * provider's status and message in the client's error shape.
 */
export async function relayTranslated(
  upstream: Dispatcher.ResponseData,
  context: TranslatedRelayContext,
): Promise<RelayOutcome> {
  const status = upstream.statusCode;
  const headers = { ...passThroughHeaders(upstream.headers), ...context.ownHeaders };
  delete headers['content-type'];
  if (status >= 300) {
    const body = Buffer.from(await upstream.body.arrayBuffer());
    const rendered = translateUpstreamError(status, body, context.clientDialect, context.requestId);
    context.response.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(rendered),
    });
    context.response.end(rendered);
    return {
      status,
      streamed: false,
      usage: undefined,
      usageReported: false,
      upstreamModel: undefined,
      firstByteMs: performance.now() - context.startedAt,
      interruption: undefined,
    };
  }
  const contentType = String(upstream.headers['content-type'] ?? '');
  // SSE, or the provider's own framing: an adapter with its own stream decoder (Bedrock's AWS
  // event-stream) answers streams in its own content type and everything else in JSON.
  const isStream =
    contentType.startsWith('text/event-stream') ||
    (context.createDecoder !== undefined && contentType !== '' && !/\bjson\b/i.test(contentType));
  return isStream
    ? relayTranslatedStream(upstream, context, headers)
    : relayTranslatedBody(upstream, context, headers);
}

async function relayTranslatedBody(
  upstream: Dispatcher.ResponseData,
  context: TranslatedRelayContext,
  headers: Record<string, string | string[]>,
): Promise<RelayOutcome> {
  const parsed = context.providerCodec.parseResponse(await upstream.body.json());
  const rendered = context.clientCodec.renderResponse(parsed.value);
  const body = JSON.stringify(rendered.value);
  const warnings = warningsHeaderValue([
    ...context.requestWarnings,
    ...parsed.warnings,
    ...rendered.warnings,
  ]);
  context.response.writeHead(upstream.statusCode, {
    ...headers,
    ...(warnings ? { [WARNINGS_HEADER]: warnings } : {}),
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  context.response.end(body);
  const firstByteMs = performance.now() - context.startedAt;
  return {
    status: upstream.statusCode,
    streamed: false,
    usage: parsed.value.usage,
    usageReported: true,
    upstreamModel: parsed.value.model,
    firstByteMs,
    interruption: undefined,
  };
}

async function relayTranslatedStream(
  upstream: Dispatcher.ResponseData,
  context: TranslatedRelayContext,
  headers: Record<string, string | string[]>,
): Promise<RelayOutcome> {
  const { response } = context;
  const decode = (context.createDecoder ?? createSseDecoder)();
  const parser = context.providerCodec.createStreamParser();
  const renderer = context.createRenderer();
  const meter = new NeutralMeter(context.estimatedInputTokens);
  const warnings = warningsHeaderValue(context.requestWarnings);
  response.writeHead(upstream.statusCode, {
    ...headers,
    ...(warnings ? { [WARNINGS_HEADER]: warnings } : {}),
    'content-type': context.streamContentType,
    'cache-control': 'no-cache',
  });
  response.flushHeaders();

  let firstByteMs: number | undefined;
  let lastWrite = performance.now();
  const write = (text: string) => {
    if (text === '' || response.destroyed) return true;
    firstByteMs ??= performance.now() - context.startedAt;
    lastWrite = performance.now();
    return response.write(text);
  };
  const keepAlive =
    context.keepAliveMs === undefined
      ? undefined
      : setInterval(
          () => {
            if (performance.now() - lastWrite >= (context.keepAliveMs ?? 0))
              write(renderer.push({ type: 'keepalive' }));
          },
          Math.max(100, Math.floor(context.keepAliveMs / 2)),
        );

  let interruption: RelayOutcome['interruption'];
  try {
    for await (const chunk of upstream.body) {
      let text = '';
      for (const wireEvent of decode(chunk as Buffer)) {
        for (const event of parser.push(wireEvent)) {
          meter.observe(event);
          text += renderer.push(event);
        }
      }
      if (!write(text)) await drainedOrClosed(response);
      if (response.destroyed) break;
    }
    let tail = '';
    for (const event of parser.end()) {
      meter.observe(event);
      tail += renderer.push(event);
    }
    write(tail + renderer.end());
  } catch {
    interruption = response.destroyed ? 'client_closed' : 'upstream_failed';
  } finally {
    if (keepAlive) clearInterval(keepAlive);
  }
  if (response.destroyed) {
    interruption ??= 'client_closed';
    upstream.body.destroy();
  } else if (interruption === 'upstream_failed' || (!meter.finished && !meter.errored)) {
    // The provider's stream broke off: break the client's too, rather than end it as if complete.
    interruption ??= 'upstream_failed';
    response.destroy();
  } else {
    // Complete, or ended by an in-stream error the client has already been sent in its dialect.
    if (meter.errored && !meter.finished) interruption = 'upstream_failed';
    response.end();
  }
  return {
    status: upstream.statusCode,
    streamed: true,
    usage: meter.usage(),
    usageReported: meter.finished,
    upstreamModel: meter.model,
    firstByteMs,
    interruption,
  };
}
