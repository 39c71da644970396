import { describe, expect, it } from 'vitest';
import { matchesModelPattern, modelListIncludes, modelListOf } from './model-patterns.js';

describe('model lists with * patterns', () => {
  it('matches exact ids literally and * as any run of characters', () => {
    expect(matchesModelPattern('gpt-4o', 'gpt-4o')).toBe(true);
    expect(matchesModelPattern('gpt-4o', 'gpt-4o-mini')).toBe(false);
    expect(matchesModelPattern('claude-*', 'claude-sonnet-4-6')).toBe(true);
    expect(matchesModelPattern('claude-*', 'anthropic.claude-sonnet')).toBe(false);
    expect(matchesModelPattern('gpt-4.1*', 'gpt-4.1-mini')).toBe(true);
    // The dot is literal, not "any character".
    expect(matchesModelPattern('gpt-4.1*', 'gpt-401')).toBe(false);
    expect(matchesModelPattern('*-instruct', 'llama-3-instruct')).toBe(true);
  });

  it('looks exact ids up in a set and tries the patterns', () => {
    const list = modelListOf(['my-local-llama', 'claude-*']);
    expect([...list.exact]).toEqual(['my-local-llama']);
    expect(list.patterns).toEqual(['claude-*']);
    expect(modelListIncludes(list, 'my-local-llama')).toBe(true);
    expect(modelListIncludes(list, 'claude-haiku-4-5')).toBe(true);
    expect(modelListIncludes(list, 'gpt-4o')).toBe(false);
  });
});
