import { createParser } from 'eventsource-parser';
import type { WireEvent } from './translate/neutral.js';

/**
 * Decodes an SSE byte stream into wire events, chunk by chunk, for translation. (Same-dialect
 * streams never come here: they pass through as bytes.)
 */
export function createSseDecoder(): (chunk: Uint8Array) => WireEvent[] {
  const decoder = new TextDecoder();
  let pending: WireEvent[] = [];
  const parser = createParser({
    onEvent(event) {
      pending.push({ event: event.event, data: event.data });
    },
  });
  return (chunk) => {
    parser.feed(decoder.decode(chunk, { stream: true }));
    const events = pending;
    pending = [];
    return events;
  };
}
