import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createAnthropicMessagesTap,
  createOpenAiChatTap,
  estimateTokens,
  type StreamTap,
} from './stream-tap.js';

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));
}

/** Deterministic pseudo-random split points so failures reproduce. */
function randomSplits(bytes: Uint8Array, seed: number): Uint8Array[] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state;
  };
  const pieces: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const size = 1 + (next() % 97);
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

function oneByteSplits(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (_, index) => bytes.subarray(index, index + 1));
}

const splittings: Array<[string, (bytes: Uint8Array) => Uint8Array[]]> = [
  ['whole', (bytes) => [bytes]],
  ['one byte at a time', oneByteSplits],
  ...[1, 7, 42, 1234].map((seed): [string, (bytes: Uint8Array) => Uint8Array[]] => [
    `random splits (seed ${seed})`,
    (bytes) => randomSplits(bytes, seed),
  ]),
];

/** Feeds pieces through a tap and returns everything it forwarded, checking identity pass-through. */
function run(tap: StreamTap, pieces: Uint8Array[], expectSameObject: boolean): Uint8Array {
  const forwarded: Uint8Array[] = [];
  for (const piece of pieces) {
    const out = tap.write(piece);
    if (expectSameObject) expect(out).toBe(piece);
    if (out) forwarded.push(out);
  }
  const tail = tap.end();
  if (expectSameObject) expect(tail).toBeUndefined();
  if (tail) forwarded.push(tail);
  return Buffer.concat(forwarded);
}

describe('OpenAI chat stream tap', () => {
  const withUsage = fixture('openai-chat-stream-usage.chunks.txt');
  const stripped = fixture('openai-chat-stream-usage.stripped.chunks.txt');

  for (const [name, split] of splittings) {
    it(`passes bytes through unchanged and reads usage (${name})`, () => {
      const tap = createOpenAiChatTap({ stripUsageChunk: false, estimatedInputTokens: 999 });
      expect(Buffer.compare(run(tap, split(withUsage), true), withUsage)).toBe(0);
      expect(tap.usageReported).toBe(true);
      expect(tap.model).toBe('gpt-4o-2024-08-06');
      expect(tap.usage()).toEqual({
        input: { total: 1234, noCache: 210, cacheRead: 1024, cacheWrite: 0 },
        output: { total: 57, text: 57, reasoning: 0 },
      });
    });

    it(`strips only the usage-only chunk when the gateway asked for it (${name})`, () => {
      const tap = createOpenAiChatTap({ stripUsageChunk: true, estimatedInputTokens: 999 });
      const out = run(tap, split(withUsage), false);
      expect(Buffer.from(out).toString('utf8')).toBe(Buffer.from(stripped).toString('utf8'));
      expect(tap.usageReported).toBe(true);
      expect(tap.usage().input.total).toBe(1234);
    });
  }

  it('strip mode forwards complete events immediately, not at the end', () => {
    const tap = createOpenAiChatTap({ stripUsageChunk: true, estimatedInputTokens: 0 });
    const text = new TextDecoder().decode(withUsage);
    const firstEventEnd = text.indexOf('\n\n') + 2;
    const out = tap.write(new TextEncoder().encode(text.slice(0, firstEventEnd + 10)));
    expect(new TextDecoder().decode(out)).toBe(text.slice(0, firstEventEnd));
  });

  it('strip mode keeps CRLF framing, comments and unknown events byte for byte', () => {
    const input = ': keep-alive\r\n\r\ndata: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\r\n\r\n';
    const usageOnly = 'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\r\n\r\n';
    const tap = createOpenAiChatTap({ stripUsageChunk: true, estimatedInputTokens: 0 });
    const bytes = new TextEncoder().encode(`${input}${usageOnly}data: [DONE]\r\n\r\n`);
    const out = run(tap, oneByteSplits(bytes), false);
    expect(new TextDecoder().decode(out)).toBe(`${input}data: [DONE]\r\n\r\n`);
    expect(tap.usage().output.total).toBe(1);
  });

  it('counts tool-call arguments when the stream carries no usage', () => {
    const tools = fixture('openai-chat-stream-tools.chunks.txt');
    const tap = createOpenAiChatTap({ stripUsageChunk: false, estimatedInputTokens: 321 });
    run(tap, randomSplits(tools, 5), true);
    const argumentsText = '{"location":"Paris, France","unit":"celsius"}';
    expect(tap.usageReported).toBe(false);
    expect(tap.model).toBe('gpt-4.1-mini-2025-04-14');
    expect(tap.usage()).toEqual({
      input: { total: 321, noCache: 321, cacheRead: 0, cacheWrite: 0 },
      output: { total: estimateTokens(argumentsText), text: estimateTokens(argumentsText), reasoning: 0 },
    });
  });

  it('estimates usage for a stream cut short mid-event, and forwards the cut tail as it was', () => {
    const cut = withUsage.subarray(0, Math.floor(withUsage.length * 0.6));
    for (const strip of [false, true]) {
      const tap = createOpenAiChatTap({ stripUsageChunk: strip, estimatedInputTokens: 500 });
      expect(Buffer.compare(run(tap, randomSplits(cut, 9), !strip), cut)).toBe(0);
      expect(tap.usageReported).toBe(false);
      const usage = tap.usage();
      expect(usage.input.total).toBe(500);
      expect(usage.output.total).toBeGreaterThan(0);
    }
  });

  it('counts reasoning deltas from OpenAI-compatible servers as reasoning', () => {
    const text =
      'data: {"model":"deepseek-reasoner","choices":[{"delta":{"reasoning_content":"abcdefgh"}}]}\n\n';
    const tap = createOpenAiChatTap({ stripUsageChunk: false, estimatedInputTokens: 0 });
    tap.write(new TextEncoder().encode(text));
    tap.end();
    expect(tap.usage().output).toEqual({ total: 2, text: 0, reasoning: 2 });
  });

  it('never throws on garbage', () => {
    const tap = createOpenAiChatTap({ stripUsageChunk: true, estimatedInputTokens: 1 });
    const garbage = new TextEncoder().encode('data: {not json\n\nevent: x\nretry: abc\nfoo\n\n\xff\n');
    expect(() => run(tap, oneByteSplits(garbage), false)).not.toThrow();
    expect(tap.usage().input.total).toBe(1);
  });
});

describe('Anthropic Messages stream tap', () => {
  const tools = fixture('anthropic-messages-stream-tools.chunks.txt');
  const text = fixture('anthropic-messages-stream-text.chunks.txt');

  for (const [name, split] of splittings) {
    it(`passes bytes through unchanged and merges cumulative usage (${name})`, () => {
      const tap = createAnthropicMessagesTap({ estimatedInputTokens: 7 });
      expect(Buffer.compare(run(tap, split(tools), true), tools)).toBe(0);
      expect(tap.usageReported).toBe(true);
      expect(tap.model).toBe('claude-sonnet-4-5-20250929');
      expect(tap.usage()).toEqual({
        input: { total: 472 + 2051 + 10240, noCache: 472, cacheRead: 10240, cacheWrite: 2051 },
        output: { total: 89, text: 89, reasoning: 0 },
      });
    });
  }

  it('keeps message_start input when message_delta reports only output', () => {
    const tap = createAnthropicMessagesTap({ estimatedInputTokens: 7 });
    expect(Buffer.compare(run(tap, oneByteSplits(text), true), text)).toBe(0);
    expect(tap.usage()).toEqual({
      input: { total: 25, noCache: 25, cacheRead: 0, cacheWrite: 0 },
      output: { total: 15, text: 15, reasoning: 0 },
    });
  });

  it('estimates output when the stream errors before message_delta', () => {
    const overloaded = fixture('anthropic-messages-stream-overloaded.chunks.txt');
    const tap = createAnthropicMessagesTap({ estimatedInputTokens: 7 });
    run(tap, randomSplits(overloaded, 3), true);
    const delivered =
      'Once upon a time, in a land far away, there lived a very patient gateway that metered every token it saw.';
    expect(tap.usageReported).toBe(false);
    expect(tap.usage()).toEqual({
      input: { total: 25, noCache: 25, cacheRead: 0, cacheWrite: 0 },
      output: { total: estimateTokens(delivered), text: estimateTokens(delivered), reasoning: 0 },
    });
  });

  it('uses the given input estimate when cut before message_start completed', () => {
    const tap = createAnthropicMessagesTap({ estimatedInputTokens: 640 });
    run(tap, [tools.subarray(0, 40)], true);
    expect(tap.usage().input).toEqual({ total: 640, noCache: 640, cacheRead: 0, cacheWrite: 0 });
    expect(tap.model).toBeUndefined();
  });

  it('cut after thinking and text counts both', () => {
    const all = new TextDecoder().decode(tools);
    const cutAt = all.indexOf('event: content_block_start', all.indexOf('la météo'));
    const tap = createAnthropicMessagesTap({ estimatedInputTokens: 0 });
    run(tap, oneByteSplits(new TextEncoder().encode(all.slice(0, cutAt))), true);
    const thinking = 'The user wants the weather in Paris. I should call get_weather with celsius.';
    const visible = 'Je vérifie la météo à Paris…';
    expect(tap.usage().output).toEqual({
      total: estimateTokens(thinking) + estimateTokens(visible),
      text: estimateTokens(visible),
      reasoning: estimateTokens(thinking),
    });
    expect(tap.usage().input.cacheRead).toBe(10240);
  });
});

describe('estimateTokens', () => {
  it('is about four characters per token, rounded up', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abc')).toBe(1);
    expect(estimateTokens('abcdefghi')).toBe(3);
  });
});
