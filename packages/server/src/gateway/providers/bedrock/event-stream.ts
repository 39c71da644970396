/**
 * AWS event-stream framing → wire events. Bedrock streams (ConverseStream and
 * InvokeModelWithResponseStream) are binary frames, not SSE: a 12-byte prelude (total length,
 * headers length, prelude CRC), headers, payload, message CRC. The codec checks both CRCs.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html
 * @see https://docs.aws.amazon.com/transcribe/latest/dg/streaming-setting-up.html (the frame layout)
 */
import type { WireEvent } from '@gatehouse/core';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/** Bytes before the headers: total length, headers length, prelude CRC. */
const PRELUDE_LENGTH = 12;
/** Prelude plus the trailing message CRC: the smallest possible frame. */
const MINIMUM_FRAME_LENGTH = 16;
/**
 * The largest frame accepted. AWS caps event-stream messages at 16 MiB; a larger length prefix
 * means the stream is corrupt, and buffering towards it would only hold memory hostage.
 */
export const MAX_EVENT_STREAM_FRAME_BYTES = 16 * 1024 * 1024;

/** What an exception frame becomes: kept as is for Converse, an Anthropic `error` event for InvokeModel. */
export type ExceptionShape = 'bedrock' | 'anthropic';

/**
 * Anthropic error types for Bedrock's stream exceptions, so an Anthropic client sees the error it
 * would have seen from Anthropic's own API.
 * @see https://docs.anthropic.com/en/api/errors
 */
const anthropicErrorTypeOf: Readonly<Record<string, string>> = {
  throttlingException: 'rate_limit_error',
  serviceUnavailableException: 'overloaded_error',
  validationException: 'invalid_request_error',
  modelTimeoutException: 'timeout_error',
  internalServerException: 'api_error',
  modelStreamErrorException: 'api_error',
};

function headerText(headers: MessageHeaders, name: string): string | undefined {
  const header = headers[name];
  return header?.type === 'string' ? header.value : undefined;
}

/**
 * A stateful decoder: feed it the response body's chunks in order; it returns the events whose
 * frames are complete and keeps the rest, so frames split across chunks (or several in one)
 * decode the same as whole ones.
 */
export function createEventStreamDecoder(
  exceptions: ExceptionShape = 'bedrock',
): (chunk: Uint8Array) => WireEvent[] {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  let pending: Uint8Array = new Uint8Array(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : concat(pending, chunk);
    const events: WireEvent[] = [];
    let offset = 0;
    while (pending.length - offset >= PRELUDE_LENGTH) {
      const view = new DataView(pending.buffer, pending.byteOffset + offset, PRELUDE_LENGTH);
      const frameLength = view.getUint32(0, false);
      if (frameLength < MINIMUM_FRAME_LENGTH || frameLength > MAX_EVENT_STREAM_FRAME_BYTES) {
        throw new Error(`Malformed AWS event-stream frame: length ${frameLength}.`);
      }
      if (pending.length - offset < frameLength) break;
      const message = codec.decode(pending.subarray(offset, offset + frameLength));
      offset += frameLength;
      const event = toWireEvent(message.headers, toUtf8(message.body), exceptions);
      if (event) events.push(event);
    }
    // Copy the remainder: holding a view would pin the whole chunk it came from.
    pending = offset === 0 ? pending : pending.slice(offset);
    return events;
  };
}

function toWireEvent(
  headers: MessageHeaders,
  payload: string,
  exceptions: ExceptionShape,
): WireEvent | undefined {
  const messageType = headerText(headers, ':message-type');
  if (messageType === 'exception' || messageType === 'error') {
    const name =
      headerText(headers, ':exception-type') ??
      headerText(headers, ':error-code') ??
      'internalServerException';
    return exceptions === 'anthropic'
      ? anthropicError(name, payload, headers)
      : { event: name, data: payload };
  }
  const eventType = headerText(headers, ':event-type');
  if (eventType !== 'chunk') return { event: eventType, data: payload };
  // InvokeModelWithResponseStream: {"bytes": "<base64 of one model event>"}.
  const bytes = (JSON.parse(payload) as { bytes?: unknown }).bytes;
  if (typeof bytes !== 'string') return undefined;
  const data = Buffer.from(bytes, 'base64').toString('utf8');
  const type = (JSON.parse(data) as { type?: unknown }).type;
  return { event: typeof type === 'string' ? type : undefined, data };
}

function anthropicError(name: string, payload: string, headers: MessageHeaders): WireEvent {
  let message: string | undefined;
  try {
    const parsed = JSON.parse(payload) as { message?: unknown; Message?: unknown };
    const text = parsed.message ?? parsed.Message;
    if (typeof text === 'string') message = text;
  } catch {
    message = payload === '' ? undefined : payload;
  }
  message ??= headerText(headers, ':error-message') ?? name;
  const error = { type: anthropicErrorTypeOf[name] ?? 'api_error', message };
  return { event: 'error', data: JSON.stringify({ type: 'error', error }) };
}

function concat(left: Uint8Array, right: Uint8Array): Uint8Array {
  const joined = new Uint8Array(left.length + right.length);
  joined.set(left, 0);
  joined.set(right, left.length);
  return joined;
}
