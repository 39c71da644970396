import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  modelFromBody,
  usageFromAnthropic,
  usageFromAnthropicBody,
  usageFromOpenAiChat,
  usageFromOpenAiChatBody,
} from './usage-extract.js';

function jsonFixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8'));
}

describe('usageFromOpenAiChat', () => {
  it('splits cached input and reasoning output out of the totals', () => {
    const body = jsonFixture('openai-chat-completion.json');
    expect(usageFromOpenAiChatBody(body)).toEqual({
      input: { total: 2048, noCache: 512, cacheRead: 1536, cacheWrite: 0 },
      output: { total: 300, text: 44, reasoning: 256 },
    });
    expect(modelFromBody(body)).toBe('o4-mini-2025-04-16');
  });

  it('tolerates missing details and odd values', () => {
    expect(usageFromOpenAiChat({ prompt_tokens: 10, completion_tokens: 2 })).toEqual({
      input: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
      output: { total: 2, text: 2, reasoning: 0 },
    });
    expect(
      usageFromOpenAiChat({
        prompt_tokens: 10,
        completion_tokens: '3',
        prompt_tokens_details: { cached_tokens: 50 },
        completion_tokens_details: null,
      }),
    ).toEqual({
      input: { total: 10, noCache: 0, cacheRead: 10, cacheWrite: 0 },
      output: { total: 0, text: 0, reasoning: 0 },
    });
    expect(usageFromOpenAiChat(null)).toBeUndefined();
    expect(usageFromOpenAiChat({})).toBeUndefined();
    expect(usageFromOpenAiChat([1, 2])).toBeUndefined();
    expect(usageFromOpenAiChat({ prompt_tokens: -1, completion_tokens: Number.NaN })).toBeUndefined();
    expect(usageFromOpenAiChatBody('nope')).toBeUndefined();
  });

  it('reads cache writes reported by OpenAI-compatible providers', () => {
    const usage = usageFromOpenAiChat({
      prompt_tokens: 100,
      completion_tokens: 1,
      prompt_tokens_details: { cached_tokens: 20, cache_write_tokens: 30 },
    });
    expect(usage?.input).toEqual({ total: 100, noCache: 50, cacheRead: 20, cacheWrite: 30 });
  });
});

describe('usageFromAnthropic', () => {
  it('sums the three input fields into the total', () => {
    expect(usageFromAnthropicBody(jsonFixture('anthropic-messages-response.json'))).toEqual({
      input: { total: 4012, noCache: 12, cacheRead: 3000, cacheWrite: 1000 },
      output: { total: 5, text: 5, reasoning: 0 },
    });
  });

  it('merges cumulative message_delta usage over message_start', () => {
    const start = usageFromAnthropic({
      input_tokens: 40,
      cache_creation_input_tokens: 5,
      cache_read_input_tokens: 100,
      output_tokens: 1,
    });
    const outputOnly = usageFromAnthropic({ output_tokens: 77 }, start);
    expect(outputOnly).toEqual({
      input: { total: 145, noCache: 40, cacheRead: 100, cacheWrite: 5 },
      output: { total: 77, text: 77, reasoning: 0 },
    });
    const repeated = usageFromAnthropic(
      { input_tokens: 40, cache_creation_input_tokens: 5, cache_read_input_tokens: 100, output_tokens: 80 },
      outputOnly,
    );
    expect(repeated?.output.total).toBe(80);
    expect(repeated?.input.total).toBe(145);
    const withNulls = usageFromAnthropic({ input_tokens: null, output_tokens: 81 }, repeated);
    expect(withNulls?.input.noCache).toBe(40);
    expect(usageFromAnthropic(undefined, start)).toBe(start);
    expect(usageFromAnthropic({ server_tool_use: {} })).toBeUndefined();
  });

  it('reads the model from a body only when it is a non-empty string', () => {
    expect(modelFromBody({ model: '' })).toBeUndefined();
    expect(modelFromBody({ model: 4 })).toBeUndefined();
    expect(modelFromBody(null)).toBeUndefined();
  });
});
