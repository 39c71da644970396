import { type DialectCodec, GatewayError, type StreamRenderer, type WireDialect } from '@gatehouse/core';

/** The translation codecs the gateway has, by wire dialect. */
const codecs: Partial<Record<WireDialect, DialectCodec>> = {};

export function codecFor(dialect: WireDialect): DialectCodec | undefined {
  return codecs[dialect];
}

export function canTranslate(from: WireDialect, to: WireDialect): boolean {
  return codecs[from] !== undefined && codecs[to] !== undefined;
}

/** Gemini's streamGenerateContent without `alt=sse` streams one JSON array. */
export function createGeminiJsonArrayRenderer(): StreamRenderer {
  throw new GatewayError('invalid_request', 'Streaming without alt=sse is not available yet; add ?alt=sse.');
}
