/**
 * Small pieces the OpenAI Responses request, response and stream mappers share: argument
 * parsing, usage in both directions and finish reasons.
 * @see https://platform.openai.com/docs/api-reference/responses/object
 */

import { isRecord } from '../../json.js';
import { emptyUsage, type Usage } from '../../usage.js';
import { usageFromOpenAiChat } from '../../usage-extract.js';
import type { NeutralFinishReason, TranslationWarning } from '../neutral.js';

/**
 * A function call's `arguments` text as the neutral parsed object. Models do emit broken JSON
 * now and then; the call still goes through with an empty input, and the raw text travels in
 * the warning so nothing is lost silently.
 */
export function parseArguments(text: string, feature: string, warnings: TranslationWarning[]): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    warnings.push({
      kind: 'approximated',
      feature,
      detail: `invalid JSON arguments replaced by {}: ${text.slice(0, 200)}`,
    });
    return {};
  }
}

/** Neutral input back to `arguments` text; a string input is taken as already-serialised JSON. */
export function stringifyArguments(input: unknown): string {
  return typeof input === 'string' ? input : JSON.stringify(input ?? {});
}

/**
 * Responses `usage` has the chat-completions semantics under other names (`input_tokens` already
 * includes cached tokens, `output_tokens` already includes reasoning), so the chat extractor
 * does the carving.
 * @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage
 */
export function usageFromResponses(usage: unknown): Usage | undefined {
  if (!isRecord(usage)) return undefined;
  return usageFromOpenAiChat({
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    prompt_tokens_details: usage.input_tokens_details,
    completion_tokens_details: usage.output_tokens_details,
  });
}

/** Neutral usage as a Responses `usage` object (cache writes have no field: they stay in the total). */
export function renderUsage(usage: Usage | undefined): Record<string, unknown> {
  const value = usage ?? emptyUsage();
  return {
    input_tokens: value.input.total,
    input_tokens_details: { cached_tokens: value.input.cacheRead },
    output_tokens: value.output.total,
    output_tokens_details: { reasoning_tokens: value.output.reasoning },
    total_tokens: value.input.total + value.output.total,
  };
}

/**
 * A Responses answer has a `status`, not a stop reason: `incomplete` says why in
 * `incomplete_details.reason`, and a completed answer that called functions stopped for them.
 * @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-incomplete_details
 */
export function finishReasonFromResponse(
  status: unknown,
  incompleteReason: unknown,
  calledTools: boolean,
): NeutralFinishReason {
  if (status === 'incomplete') {
    const raw = typeof incompleteReason === 'string' ? incompleteReason : 'incomplete';
    if (raw === 'max_output_tokens') return { unified: 'length', raw };
    if (raw === 'content_filter') return { unified: 'content-filter', raw };
    return { unified: 'other', raw };
  }
  if (status === 'failed') return { unified: 'error', raw: 'failed' };
  if (status === 'completed') return { unified: calledTools ? 'tool-calls' : 'stop', raw: 'completed' };
  return { unified: 'other', raw: typeof status === 'string' ? status : undefined };
}

/** The terminal status (and incomplete reason) a neutral finish reason renders as. */
export function statusFromFinishReason(finishReason: NeutralFinishReason): {
  status: 'completed' | 'incomplete' | 'failed';
  incompleteDetails: { reason: string } | null;
} {
  switch (finishReason.unified) {
    case 'length':
      return { status: 'incomplete', incompleteDetails: { reason: 'max_output_tokens' } };
    case 'content-filter':
      return { status: 'incomplete', incompleteDetails: { reason: 'content_filter' } };
    case 'error':
      return { status: 'failed', incompleteDetails: null };
    default:
      return { status: 'completed', incompleteDetails: null };
  }
}

/** Item ids follow OpenAI's prefixes (`msg_`, `fc_`, `rs_`) so clients that sniff them are happy. */
export function itemId(prefix: 'msg' | 'fc' | 'rs', responseId: string, outputIndex: number): string {
  return `${prefix}_${responseId.replace(/^resp_/, '')}_${outputIndex}`;
}
