/**
 * Pieces the OpenAI Chat Completions request, response and stream mappers share:
 * tool arguments, finish reasons and usage in both directions.
 * @see https://platform.openai.com/docs/api-reference/chat
 */
import { optionalString } from '../../json.js';
import { emptyUsage, type Usage } from '../../usage.js';
import { finishReasonVocabulary } from '../finish-reason.js';
import type { NeutralFinishReason } from '../neutral.js';
import type { Warnings } from '../warnings.js';

/**
 * A function call's `arguments` text as the neutral parsed object. Models do emit broken JSON
 * now and then; the call still goes through with `{}`, and the raw text travels in the warning.
 */
export function parseArguments(text: unknown, warnings: Warnings): unknown {
  if (typeof text !== 'string' || text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    warnings.add(
      'approximated',
      'tool_calls.arguments',
      `invalid JSON replaced by {}: ${text.slice(0, 200)}`,
    );
    return {};
  }
}

/** Neutral input back to `arguments` text; a string input is taken as already-serialised JSON. */
export function stringifyArguments(input: unknown): string {
  return typeof input === 'string' ? input : JSON.stringify(input ?? {});
}

/**
 * `function_call` is the legacy name for `tool_calls`.
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices
 */
const unifiedByFinishReason: Record<string, NeutralFinishReason['unified']> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool-calls',
  function_call: 'tool-calls',
  content_filter: 'content-filter',
};

const finishReasonByUnified: Record<NeutralFinishReason['unified'], string> = {
  stop: 'stop',
  length: 'length',
  'tool-calls': 'tool_calls',
  'content-filter': 'content_filter',
  // Chat Completions has no word for these; the answer simply ended.
  error: 'stop',
  other: 'stop',
};

const vocabulary = finishReasonVocabulary(unifiedByFinishReason, finishReasonByUnified);

export function finishReasonFromOpenAi(value: unknown): NeutralFinishReason {
  return vocabulary.toNeutral(optionalString(value));
}

/** The raw reason when it is this dialect's own and agrees with the unified one; else the mapping. */
export function finishReasonToOpenAi(finishReason: NeutralFinishReason): string {
  return vocabulary.fromNeutral(finishReason);
}

/**
 * Neutral usage as a Chat Completions `usage` object. `prompt_tokens` includes cached tokens and
 * `completion_tokens` includes reasoning; cache writes have no field and stay in the total.
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 */
export function renderUsage(usage: Usage | undefined): Record<string, unknown> {
  const value = usage ?? emptyUsage();
  return {
    prompt_tokens: value.input.total,
    completion_tokens: value.output.total,
    total_tokens: value.input.total + value.output.total,
    prompt_tokens_details: { cached_tokens: value.input.cacheRead },
    completion_tokens_details: { reasoning_tokens: value.output.reasoning },
  };
}

/** `data:` URLs carry inline images in Chat Completions; the neutral model keeps the bytes apart. */
export function parseImageUrl(
  url: string,
): { kind: 'base64'; mediaType: string; data: string } | { kind: 'url'; url: string } {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (match?.[1] !== undefined && match[2] !== undefined)
    return { kind: 'base64', mediaType: match[1], data: match[2] };
  return { kind: 'url', url };
}

/** Clock injected so renderers stay pure; `created` is Unix seconds. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
