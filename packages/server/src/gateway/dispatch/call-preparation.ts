import type { IncomingHttpHeaders } from 'node:http';
import {
  type ApiKind,
  GatewayError,
  isRecord,
  jsonNestsDeeperThan,
  MAX_JSON_DEPTH,
  type NeutralRequest,
  type TranslationWarning,
  type WireDialect,
  wireDialectOfApi,
} from '@gatehouse/core';
import type { ParsedCall } from '../http/request-body.js';
import type { UpstreamRequest, UpstreamSender } from '../providers/types.js';
import { codecFor } from '../relay/translation/codecs.js';
import type { RouteCandidate } from './routing.js';

export interface PreparationInput {
  api: ApiKind;
  search: string;
  headers: IncomingHttpHeaders;
  /** The client's call, its bytes included. */
  parsed: ParsedCall;
  /** The model after aliases. */
  model: string;
  /** The caller's signed identity, for upstreams trusted to receive it. */
  identityToken(): Promise<string>;
  /** Where an adapter's own calls go (a token request), under the outbound address rules. */
  upstream: UpstreamSender;
}

/** The header that carries the caller's signed identity to trusted upstreams. */
export const IDENTITY_HEADER = 'x-gatehouse-identity';

/**
 * Builds the request for each credential the dispatcher tries. The client's request is parsed
 * into the neutral model at most once, and rendered at most once per provider dialect, however
 * many credentials the fallback walks through.
 */
export class CallPreparation {
  readonly #input: PreparationInput;
  #neutral: { value: NeutralRequest; warnings: TranslationWarning[] } | undefined;
  readonly #rendered = new Map<
    WireDialect,
    { body: Buffer; json: Record<string, unknown>; warnings: TranslationWarning[] }
  >();
  #native: { body: Buffer; stripUsageChunk: boolean } | undefined;

  constructor(input: PreparationInput) {
    this.#input = input;
  }

  /** Whether the gateway added OpenAI's usage chunk to a passed-through stream for metering. */
  get stripUsageChunk(): boolean {
    return this.#nativeBody().stripUsageChunk;
  }

  /** The request translation's warnings for a candidate (empty when passed through). */
  warningsFor(candidate: RouteCandidate): TranslationWarning[] {
    return candidate.translated ? (this.#rendered.get(candidate.dialect)?.warnings ?? []) : [];
  }

  /** Size of what the provider receives, for estimating input tokens when none are reported. */
  bodyLengthFor(candidate: RouteCandidate): number {
    return candidate.translated
      ? (this.#rendered.get(candidate.dialect)?.body.length ?? this.#input.parsed.body.length)
      : this.#nativeBody().body.length;
  }

  /**
   * The body a candidate will be sent, before anything is dispatched (admission's estimate), with
   * its parsed form when translation made it; rendered once and reused by `requestFor`.
   */
  sentFor(candidate: RouteCandidate): { body: Buffer; json: Record<string, unknown> | undefined } {
    this.#refuseTooDeep();
    if (!candidate.translated) return { body: this.#nativeBody().body, json: undefined };
    const body = this.#translatedBody(candidate.dialect);
    return { body, json: this.#rendered.get(candidate.dialect)?.json };
  }

  async requestFor(candidate: RouteCandidate): Promise<UpstreamRequest> {
    this.#refuseTooDeep();
    const body = candidate.translated ? this.#translatedBody(candidate.dialect) : this.#nativeBody().body;
    const request = await candidate.adapter.buildRequest(
      candidate.target,
      {
        api: this.#input.api,
        dialect: candidate.dialect,
        model: this.#input.model,
        stream: this.#input.parsed.stream,
        search: this.#input.search,
        headers: this.#input.headers,
        body,
      },
      this.#input.upstream,
    );
    if (candidate.target.forwardIdentity)
      request.headers[IDENTITY_HEADER] = await this.#input.identityToken();
    return request;
  }

  #depthChecked = false;

  /**
   * Rewriting and translating walk the whole body recursively; a body nested deeper than any real
   * request would overflow the gateway's stack. It is the caller's input, so it is the caller's 400.
   */
  #refuseTooDeep(): void {
    if (this.#depthChecked) return;
    if (jsonNestsDeeperThan(this.#input.parsed.json)) {
      throw new GatewayError(
        'invalid_request',
        `The request body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep.`,
      );
    }
    this.#depthChecked = true;
  }

  /**
   * The client's own bytes unless the gateway must change something: a model alias, or OpenAI's
   * usage chunk that metering needs on every chat stream.
   */
  #nativeBody(): { body: Buffer; stripUsageChunk: boolean } {
    if (this.#native) return this.#native;
    const { api, parsed, model } = this.#input;
    const body = parsed.body;
    const addUsageChunk = api === 'openai-chat' && parsed.stream && !parsed.clientWantsStreamUsage;
    const modelInBody = parsed.json.model !== undefined;
    if (!addUsageChunk && (!modelInBody || model === parsed.model)) {
      this.#native = { body, stripUsageChunk: false };
      return this.#native;
    }
    const rewritten: Record<string, unknown> = { ...parsed.json };
    if (modelInBody) rewritten.model = model;
    if (addUsageChunk) {
      const options = isRecord(parsed.json.stream_options) ? parsed.json.stream_options : {};
      rewritten.stream_options = { ...options, include_usage: true };
    }
    this.#native = { body: Buffer.from(JSON.stringify(rewritten)), stripUsageChunk: addUsageChunk };
    return this.#native;
  }

  #translatedBody(dialect: WireDialect): Buffer {
    const cached = this.#rendered.get(dialect);
    if (cached) return cached.body;
    const neutral = this.#neutralRequest();
    const codec = codecFor(dialect);
    const rendered = codec.renderRequest({
      ...neutral.value,
      model: this.#input.model,
      stream: this.#input.parsed.stream,
    });
    const entry = {
      // The OpenAI chat codec already asks a streamed call for its usage chunk, which metering reads.
      body: Buffer.from(JSON.stringify(rendered.value)),
      json: rendered.value,
      warnings: [...neutral.warnings, ...rendered.warnings],
    };
    this.#rendered.set(dialect, entry);
    return entry.body;
  }

  #neutralRequest(): { value: NeutralRequest; warnings: TranslationWarning[] } {
    if (this.#neutral) return this.#neutral;
    const clientDialect = wireDialectOfApi[this.#input.api];
    const codec = clientDialect ? codecFor(clientDialect) : undefined;
    if (!codec)
      throw new GatewayError('invalid_request', `Requests to ${this.#input.api} cannot be translated.`);
    this.#neutral = codec.parseRequest(this.#input.parsed.json);
    return this.#neutral;
  }
}
