import type { ServerResponse } from 'node:http';
import {
  type ApiKind,
  createAnthropicMessagesTap,
  createOpenAiChatTap,
  type StreamTap,
  type Usage,
  usageFromAnthropicBody,
  usageFromOpenAiChatBody,
  wireDialectOfApi,
} from '@gatehouse/core';
import type { Dispatcher } from 'undici';
import { passThroughHeaders } from './response-headers.js';
import { createCodecTap } from './translation/codec-tap.js';
import { codecFor } from './translation/codecs.js';

/** What happened on the wire, for metering. */
export interface RelayOutcome {
  status: number;
  streamed: boolean;
  usage: Usage | undefined;
  /** False when tokens were estimated from what was delivered (a stream cut short). */
  usageReported: boolean;
  /** The model the provider says answered, if it said. */
  upstreamModel: string | undefined;
  /** Milliseconds from the start of the request to the first body byte sent to the client. */
  firstByteMs: number | undefined;
  /** Set when the exchange did not finish normally. */
  interruption: 'client_closed' | 'upstream_failed' | undefined;
}

export interface RelayContext {
  api: ApiKind;
  response: ServerResponse;
  /** Headers every response carries (request id, serving provider). */
  ownHeaders: Record<string, string>;
  startedAt: number;
  /** The gateway added `include_usage` for metering; the client must not see the extra chunk. */
  stripUsageChunk: boolean;
  estimatedInputTokens: number;
}

/**
 * Sends the provider's answer to the client. Streams are forwarded chunk by chunk as they arrive
 * (a tap reads usage on the way); other bodies are small and forwarded whole, verbatim.
 */
export async function relayResponse(
  upstream: Dispatcher.ResponseData,
  context: RelayContext,
): Promise<RelayOutcome> {
  const contentType = String(upstream.headers['content-type'] ?? '');
  const isStream = upstream.statusCode < 300 && contentType.startsWith('text/event-stream');
  const headers = { ...passThroughHeaders(upstream.headers), ...context.ownHeaders };
  if (isStream) return relayStream(upstream, context, headers);

  const body = Buffer.from(await upstream.body.arrayBuffer());
  context.response.writeHead(upstream.statusCode, { ...headers, 'content-length': body.length });
  context.response.end(body);
  const firstByteMs = performance.now() - context.startedAt;
  let usage: Usage | undefined;
  let upstreamModel: string | undefined;
  if (upstream.statusCode < 300 && contentType.includes('json')) {
    try {
      const json = JSON.parse(body.toString('utf8')) as { model?: unknown };
      usage = usageFromBody(context.api, json);
      if (typeof json.model === 'string') upstreamModel = json.model;
    } catch {
      // A provider that answers 200 with broken JSON still had its answer delivered verbatim.
    }
  }
  return {
    status: upstream.statusCode,
    streamed: false,
    usage,
    usageReported: usage !== undefined,
    upstreamModel,
    firstByteMs,
    interruption: undefined,
  };
}

async function relayStream(
  upstream: Dispatcher.ResponseData,
  context: RelayContext,
  headers: Record<string, string | string[]>,
): Promise<RelayOutcome> {
  const { response } = context;
  const tap = createTap(context);
  response.writeHead(upstream.statusCode, { ...headers, 'cache-control': 'no-cache' });
  response.flushHeaders();
  let firstByteMs: number | undefined;
  let interruption: RelayOutcome['interruption'];
  try {
    for await (const chunk of upstream.body) {
      const forward = tap.write(chunk as Buffer);
      if (forward === undefined || forward.length === 0) continue;
      firstByteMs ??= performance.now() - context.startedAt;
      if (!response.write(forward)) await drainedOrClosed(response);
      if (response.destroyed) break;
    }
    const rest = tap.end();
    if (rest && rest.length > 0 && !response.destroyed) response.write(rest);
  } catch {
    interruption = response.destroyed ? 'client_closed' : 'upstream_failed';
  }
  if (response.destroyed) {
    interruption ??= 'client_closed';
    upstream.body.destroy();
  } else if (interruption === 'upstream_failed') {
    // The provider died mid-stream: cut the client off the same way, so its SDK sees a broken
    // stream rather than a clean end it would take for a complete answer.
    response.destroy();
  } else {
    response.end();
  }
  return {
    status: upstream.statusCode,
    streamed: true,
    usage: tap.usage(),
    usageReported: tap.usageReported,
    upstreamModel: tap.model,
    firstByteMs,
    interruption,
  };
}

/**
 * The usage tap for a passed-through stream: the fast purpose-built taps for the two dialects
 * most traffic speaks, the codec's own stream parser for the others.
 */
function createTap(context: RelayContext): StreamTap {
  if (context.api === 'anthropic-messages') {
    return createAnthropicMessagesTap({ estimatedInputTokens: context.estimatedInputTokens });
  }
  if (context.api === 'openai-chat') {
    return createOpenAiChatTap({
      stripUsageChunk: context.stripUsageChunk,
      estimatedInputTokens: context.estimatedInputTokens,
    });
  }
  const dialect = wireDialectOfApi[context.api];
  const codec = dialect ? codecFor(dialect) : undefined;
  return codec
    ? createCodecTap(codec, context.estimatedInputTokens)
    : createOpenAiChatTap({ stripUsageChunk: false, estimatedInputTokens: context.estimatedInputTokens });
}

/** Usage of a non-streamed answer, read the way its API reports it. */
function usageFromBody(api: ApiKind, json: unknown): Usage | undefined {
  switch (api) {
    case 'anthropic-messages':
      return usageFromAnthropicBody(json);
    case 'openai-chat':
    case 'openai-embeddings':
      return usageFromOpenAiChatBody(json);
    case 'anthropic-count-tokens':
    case 'gemini-count-tokens':
      return undefined; // counting tokens is free
    case 'openai-responses':
    case 'gemini-generate': {
      const codec = codecFor(api === 'openai-responses' ? 'openai-responses' : 'gemini');
      try {
        return codec?.parseResponse(json).value.usage;
      } catch {
        return undefined;
      }
    }
  }
}

/** Waits for the client to take more data, or to go away; never hangs on a vanished client. */
export function drainedOrClosed(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
