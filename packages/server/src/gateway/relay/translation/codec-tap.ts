import { createSseDecoder, type DialectCodec, type StreamTap, type Usage } from '@gatehouse/core';
import { NeutralMeter } from './neutral-meter.js';

/**
 * A usage tap for a passed-through SSE stream of any dialect with a codec (OpenAI Responses,
 * Gemini): the bytes go to the client untouched, and a copy is read through the codec's stream
 * parser for metering.
 */
export function createCodecTap(codec: DialectCodec, estimatedInputTokens: number): StreamTap {
  const decode = createSseDecoder();
  const parser = codec.createStreamParser();
  const meter = new NeutralMeter(estimatedInputTokens);
  let broken = false;
  const observe = (run: () => void) => {
    if (broken) return;
    try {
      run();
    } catch {
      // Metering must never break a stream the client is receiving; estimates take over.
      broken = true;
    }
  };
  return {
    write(chunk: Uint8Array) {
      observe(() => {
        for (const wireEvent of decode(chunk))
          for (const event of parser.push(wireEvent)) meter.observe(event);
      });
      return chunk;
    },
    end() {
      observe(() => {
        for (const event of parser.end()) meter.observe(event);
      });
      return undefined;
    },
    usage(): Usage {
      return meter.usage();
    },
    get usageReported() {
      return meter.finished;
    },
    get model() {
      return meter.model;
    },
  };
}
