/**
 * Stream taps: read usage from a provider's SSE stream while its bytes pass to the client.
 *
 * Same-dialect traffic is never buffered or re-framed: `write` hands back the very chunk it was
 * given and parses a decoded copy on the side. The one exception is OpenAI with
 * `stripUsageChunk`, where the gateway itself asked for `stream_options.include_usage` (so it can
 * meter) and must hide the extra usage-only chunk from a client that did not ask for it.
 *
 * When a stream is cut short (client abort, upstream failure) there is no final usage report, yet
 * the delivered tokens were still generated and billed upstream, so they are estimated instead.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { isRecord } from './json.js';
import { SseEventSplitter } from './sse-event-splitter.js';
import type { Usage } from './usage.js';
import { usageFromAnthropic, usageFromOpenAiChat } from './usage-extract.js';

export interface StreamTap {
  /** Feed upstream bytes as they arrive; returns the bytes to forward to the client now (usually the same chunk, unchanged). */
  write(chunk: Uint8Array): Uint8Array | undefined;
  /** Upstream finished (or was cut): returns any held-back bytes to forward, if any. */
  end(): Uint8Array | undefined;
  /**
   * Usage as far as known. If the stream never reported usage (cut short), an estimate from what
   * was delivered: output ≈ delivered content characters / 4 (text, reasoning, tool-call
   * arguments), input = the estimatedInputTokens given at creation. Never all-zero when content
   * was delivered.
   */
  usage(): Usage;
  /** True once the upstream's own final usage report was seen. */
  readonly usageReported: boolean;
  /** The model the upstream says answered, if it said. */
  readonly model: string | undefined;
}

/**
 * A rough token count: about four characters per token for English text and code with modern
 * BPE tokenizers. Only for metering streams that never reported usage and for pre-admission
 * cost estimates, never where exact counts are available.
 */
export function estimateTokens(text: string): number {
  return tokensForCharacters(text.length);
}

/** The one estimating rule: about four characters (or bytes) a token, rounded up. */
export function tokensForCharacters(count: number): number {
  return Math.ceil(count / 4);
}

/**
 * Largest SSE event the taps parse, in characters. Real events are a few hundred bytes; past this
 * the tap stops parsing (and falls back to estimates) rather than holding memory for a broken
 * upstream. Bytes keep flowing either way.
 */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stringLength(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}

/** Characters of content the client has been sent, by how they are billed. */
interface Delivered {
  textChars: number;
  reasoningChars: number;
}

/** An SSE parser that never throws into the byte path: once it fails it just stops parsing. */
function createSafeParser(onEvent: (event: EventSourceMessage) => void): (text: string) => void {
  let broken = false;
  const parser = createParser({
    onEvent(event) {
      try {
        onEvent(event);
      } catch {
        // A metering bug must never break the client's stream.
      }
    },
    onError(error) {
      if (error.type === 'max-buffer-size-exceeded') broken = true;
    },
    maxBufferSize: MAX_EVENT_CHARS,
  });
  return (text) => {
    if (broken || text === '') return;
    try {
      parser.feed(text);
    } catch {
      broken = true;
    }
  };
}

/**
 * The usage to settle with. A final report from the upstream is the truth. Without one (stream
 * cut short), whatever was reported so far is topped up with an estimate of the delivered
 * output, since those tokens were generated and billed upstream all the same. Either way, a
 * stream that visibly delivered content never settles at zero output.
 */
function settleUsage(
  reported: Usage | undefined,
  final: boolean,
  estimatedInputTokens: number,
  delivered: Delivered,
): Usage {
  const text = tokensForCharacters(delivered.textChars);
  const reasoning = tokensForCharacters(delivered.reasoningChars);
  const input = Number.isFinite(estimatedInputTokens) ? Math.max(0, Math.round(estimatedInputTokens)) : 0;
  const base: Usage = reported ?? {
    input: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
    output: { total: 0, text: 0, reasoning: 0 },
  };
  if (final && base.output.total > 0) return base;
  if (text + reasoning <= base.output.total) return base;
  return { input: { ...base.input }, output: { total: text + reasoning, text, reasoning } };
}

const encoder = new TextEncoder();

/**
 * Tap for OpenAI chat-completions streams (`data: <chunk json>\n\n` … `data: [DONE]\n\n`).
 * Usage comes from the chunk with a non-null `usage` (the last one, when
 * `stream_options.include_usage` is set).
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */
export function createOpenAiChatTap(options: {
  stripUsageChunk: boolean;
  estimatedInputTokens: number;
}): StreamTap {
  const decoder = new TextDecoder();
  const delivered: Delivered = { textChars: 0, reasoningChars: 0 };
  let reported: Usage | undefined;
  let model: string | undefined;
  let lastEventWasUsageOnly = false;

  const feed = createSafeParser((event) => {
    if (event.data === '[DONE]') return;
    const chunk = parseJson(event.data);
    if (!isRecord(chunk)) return;
    if (typeof chunk.model === 'string' && chunk.model !== '') model = chunk.model;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const choice of choices) {
      const delta = isRecord(choice) && isRecord(choice.delta) ? choice.delta : undefined;
      if (!delta) continue;
      delivered.textChars += stringLength(delta.content) + stringLength(delta.refusal);
      // `reasoning_content` (DeepSeek, vLLM) and `reasoning` (OpenRouter, Ollama) on compatible servers.
      delivered.reasoningChars += stringLength(delta.reasoning_content) + stringLength(delta.reasoning);
      if (!Array.isArray(delta.tool_calls)) continue;
      for (const call of delta.tool_calls) {
        if (isRecord(call) && isRecord(call.function))
          delivered.textChars += stringLength(call.function.arguments);
      }
    }
    const usage = usageFromOpenAiChat(chunk.usage);
    if (usage) {
      reported = usage;
      lastEventWasUsageOnly = Array.isArray(chunk.choices) && chunk.choices.length === 0;
    }
  });

  const splitter = new SseEventSplitter();

  /** Strip mode: forward complete events verbatim except the usage-only chunk. */
  function forwardEvents(text: string): Uint8Array | undefined {
    let out = '';
    for (const event of splitter.push(text)) {
      lastEventWasUsageOnly = false;
      feed(event);
      if (!lastEventWasUsageOnly) out += event;
    }
    // An event this large is not a usage chunk: stop holding it back.
    if (splitter.size > MAX_EVENT_CHARS) {
      const held = splitter.drain();
      feed(held);
      out += held;
    }
    return out === '' ? undefined : encoder.encode(out);
  }

  return {
    write(chunk) {
      const text = decoder.decode(chunk, { stream: true });
      if (!options.stripUsageChunk) {
        feed(text);
        return chunk;
      }
      return forwardEvents(text);
    },
    end() {
      const text = decoder.decode();
      if (!options.stripUsageChunk) {
        feed(text);
        return undefined;
      }
      const events = forwardEvents(text);
      const rest = splitter.drain();
      feed(rest);
      if (rest === '') return events;
      return events ? concatBytes(events, encoder.encode(rest)) : encoder.encode(rest);
    },
    usage: () => settleUsage(reported, reported !== undefined, options.estimatedInputTokens, delivered),
    get usageReported() {
      return reported !== undefined;
    },
    get model() {
      return model;
    },
  };
}

function concatBytes(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first, 0);
  joined.set(second, first.length);
  return joined;
}

/**
 * Tap for Anthropic Messages streams. `message_start` carries the model and the input side of
 * usage; `message_delta` carries cumulative usage (final output tokens). Never alters the stream.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export function createAnthropicMessagesTap(options: { estimatedInputTokens: number }): StreamTap {
  const decoder = new TextDecoder();
  const delivered: Delivered = { textChars: 0, reasoningChars: 0 };
  let usage: Usage | undefined;
  let finalReported = false;
  let model: string | undefined;

  const feed = createSafeParser((event) => {
    const data = parseJson(event.data);
    if (!isRecord(data)) return;
    switch (data.type) {
      case 'message_start': {
        const message = isRecord(data.message) ? data.message : {};
        if (typeof message.model === 'string' && message.model !== '') model = message.model;
        usage = usageFromAnthropic(message.usage, usage);
        break;
      }
      case 'content_block_start': {
        const block = isRecord(data.content_block) ? data.content_block : {};
        delivered.textChars += stringLength(block.text);
        delivered.reasoningChars += stringLength(block.thinking);
        break;
      }
      case 'content_block_delta': {
        const delta = isRecord(data.delta) ? data.delta : {};
        if (delta.type === 'text_delta') delivered.textChars += stringLength(delta.text);
        else if (delta.type === 'input_json_delta') delivered.textChars += stringLength(delta.partial_json);
        else if (delta.type === 'thinking_delta') delivered.reasoningChars += stringLength(delta.thinking);
        break;
      }
      case 'message_delta': {
        const merged = usageFromAnthropic(data.usage, usage);
        if (merged && merged !== usage) finalReported = true;
        usage = merged;
        break;
      }
    }
  });

  return {
    write(chunk) {
      feed(decoder.decode(chunk, { stream: true }));
      return chunk;
    },
    end() {
      feed(decoder.decode());
      return undefined;
    },
    usage: () => settleUsage(usage, finalReported, options.estimatedInputTokens, delivered),
    get usageReported() {
      return finalReported;
    },
    get model() {
      return model;
    },
  };
}
