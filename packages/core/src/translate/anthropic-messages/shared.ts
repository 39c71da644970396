/**
 * Pieces the Anthropic Messages request, response and stream mappers share:
 * stop reasons and usage in both directions.
 * @see https://docs.anthropic.com/en/api/messages
 */
import { optionalString } from '../../json.js';
import { emptyUsage, type Usage } from '../../usage.js';
import { finishReasonVocabulary } from '../finish-reason.js';
import type { NeutralFinishReason } from '../neutral.js';

/**
 * Anthropic's stop reasons and what they mean neutrally. `pause_turn` (a server tool paused a
 * long turn) has no neutral equivalent and stays `other`, with the raw value kept.
 * @see https://docs.anthropic.com/en/api/messages#response-stop-reason
 */
const unifiedByStopReason: Record<string, NeutralFinishReason['unified']> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool-calls',
  refusal: 'content-filter',
  pause_turn: 'other',
};

const stopReasonByUnified: Record<NeutralFinishReason['unified'], string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  'tool-calls': 'tool_use',
  'content-filter': 'refusal',
  // Anthropic has no word for these; the turn simply ended.
  error: 'end_turn',
  other: 'end_turn',
};

const vocabulary = finishReasonVocabulary(unifiedByStopReason, stopReasonByUnified);

export function finishReasonFromStopReason(value: unknown): NeutralFinishReason {
  return vocabulary.toNeutral(optionalString(value));
}

/** The raw reason when it is this dialect's own and agrees with the unified one; else the mapping. */
export function stopReasonFromFinishReason(finishReason: NeutralFinishReason): string {
  return vocabulary.fromNeutral(finishReason);
}

/**
 * Neutral usage as Anthropic reports it: `input_tokens` is only the uncached part. Reasoning
 * tokens have no field of their own; they are part of `output_tokens`.
 * @see https://docs.anthropic.com/en/api/messages#response-usage
 */
export function renderUsage(usage: Usage | undefined): Record<string, number> {
  const value = usage ?? emptyUsage();
  return {
    input_tokens: value.input.noCache,
    cache_creation_input_tokens: value.input.cacheWrite,
    cache_read_input_tokens: value.input.cacheRead,
    output_tokens: value.output.total,
  };
}
