import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { costOf } from './cost.js';
import type { Usage } from './usage.js';

function usage(parts: {
  noCache: number;
  cacheRead?: number;
  cacheWrite?: number;
  text: number;
  reasoning?: number;
}): Usage {
  const cacheRead = parts.cacheRead ?? 0;
  const cacheWrite = parts.cacheWrite ?? 0;
  const reasoning = parts.reasoning ?? 0;
  return {
    input: { total: parts.noCache + cacheRead + cacheWrite, noCache: parts.noCache, cacheRead, cacheWrite },
    output: { total: parts.text + reasoning, text: parts.text, reasoning },
  };
}

/** The catalogue's own flat (below-tier) price per million tokens for a price key. */
function cataloguePrice(model: string, providerId: string, key: string): number {
  const result = calcPrice({ input_tokens: 1 }, model, { providerId });
  const price = result?.model_price[key];
  if (typeof price === 'number') return price;
  if (price && typeof price === 'object') return price.base;
  throw new Error(`no ${key} for ${model}`);
}

describe('costOf', () => {
  it('prices Anthropic usage part by part from the catalogue', () => {
    const model = 'claude-sonnet-4-5';
    const priced = costOf(
      usage({ noCache: 700, cacheRead: 2000, cacheWrite: 300, text: 500 }),
      model,
      'anthropic',
    );
    const expected =
      (700 * cataloguePrice(model, 'anthropic', 'input_mtok') +
        2000 * cataloguePrice(model, 'anthropic', 'cache_read_mtok') +
        300 * cataloguePrice(model, 'anthropic', 'cache_write_mtok') +
        500 * cataloguePrice(model, 'anthropic', 'output_mtok')) /
      1e6;
    expect(priced.source).toBe('catalogue');
    expect(priced.costUsd).toBeGreaterThan(0);
    expect(priced.costUsd).toBeCloseTo(expected, 12);
  });

  it('prices OpenAI usage with cache reads and dated model ids', () => {
    const model = 'gpt-4o';
    const tokens = usage({ noCache: 1000, cacheRead: 1024, text: 200, reasoning: 0 });
    const expected =
      (1000 * cataloguePrice(model, 'openai', 'input_mtok') +
        1024 * cataloguePrice(model, 'openai', 'cache_read_mtok') +
        200 * cataloguePrice(model, 'openai', 'output_mtok')) /
      1e6;
    expect(costOf(tokens, model, 'openai')).toEqual({
      costUsd: expect.closeTo(expected, 12),
      source: 'catalogue',
    });
    expect(costOf(tokens, 'gpt-4o-2024-08-06', 'openai').costUsd).toBeCloseTo(expected, 12);
  });

  it('bills reasoning as output', () => {
    const model = 'o4-mini';
    const withReasoning = costOf(usage({ noCache: 0, text: 100, reasoning: 900 }), model, 'openai');
    const plain = costOf(usage({ noCache: 0, text: 1000 }), model, 'openai');
    expect(withReasoning.costUsd).toBeGreaterThan(0);
    expect(withReasoning.costUsd).toBeCloseTo(plain.costUsd, 12);
  });

  it('agrees with the library called directly (cached lookups change nothing)', () => {
    const tokens = usage({ noCache: 123, cacheRead: 456, cacheWrite: 78, text: 90 });
    const direct = calcPrice(
      { input_tokens: 657, cache_read_tokens: 456, cache_write_tokens: 78, output_tokens: 90 },
      'claude-sonnet-4-5',
      { providerId: 'anthropic' },
    );
    for (let round = 0; round < 3; round++) {
      expect(costOf(tokens, 'claude-sonnet-4-5', 'anthropic').costUsd).toBeCloseTo(
        direct?.total_price ?? -1,
        15,
      );
    }
  });

  it('lets overrides win, from a Map or a record', () => {
    const tokens = usage({ noCache: 1_000_000, cacheRead: 1_000_000, text: 1_000_000 });
    const price = { inputPerMTok: 1, outputPerMTok: 2, cacheReadPerMTok: 0.5 };
    expect(costOf(tokens, 'gpt-4o', 'openai', new Map([['gpt-4o', price]]))).toEqual({
      costUsd: 3.5,
      source: 'override',
    });
    expect(
      costOf(tokens, 'my-finetune', 'openai', { 'my-finetune': { inputPerMTok: 1, outputPerMTok: 2 } }),
    ).toEqual({
      costUsd: 4,
      source: 'override',
    });
    expect(costOf(tokens, 'gpt-4o', 'openai', { other: price }).source).toBe('catalogue');
    expect(costOf(tokens, 'constructor', 'openai', {}).source).toBe('unpriced');
  });

  it('marks unknown models and providers unpriced', () => {
    const tokens = usage({ noCache: 10, text: 10 });
    expect(costOf(tokens, 'no-such-model-xyz', 'openai')).toEqual({ costUsd: 0, source: 'unpriced' });
    expect(costOf(tokens, 'gpt-4o', 'no-such-provider')).toEqual({ costUsd: 0, source: 'unpriced' });
  });

  it('maps gateway provider ids to catalogue ids', () => {
    const tokens = usage({ noCache: 1000, text: 1000 });
    expect(costOf(tokens, 'gemini-2.5-flash', 'google').source).toBe('catalogue');
    expect(costOf(tokens, 'gemini-2.5-flash', 'vertex').source).toBe('catalogue');
  });

  it('survives inconsistent usage without throwing', () => {
    const odd: Usage = {
      input: { total: 5, noCache: 5, cacheRead: 100, cacheWrite: -3 },
      output: { total: 1, text: 4, reasoning: 9 },
    };
    expect(costOf(odd, 'claude-sonnet-4-5', 'anthropic').source).toBe('catalogue');
  });
});
