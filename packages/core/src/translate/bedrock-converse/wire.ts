/**
 * The two Bedrock mappings every other file shares: stop reasons and token usage.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */

import { isRecord, optionalString } from '../../json.js';
import type { Usage } from '../../usage.js';
import type { NeutralFinishReason } from '../neutral.js';

/** A usable token count, or undefined: negative, fractional, NaN and non-numbers are "not reported". */
function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
}

/**
 * Every `stopReason` Bedrock documents, with its unified meaning. A context-window overflow
 * is a length stop; malformed model output or tool use is the model failing, hence `error`.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_MessageStopEvent.html
 */
const unifiedByStopReason: Record<string, NeutralFinishReason['unified']> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  tool_use: 'tool-calls',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  guardrail_intervened: 'content-filter',
  content_filtered: 'content-filter',
  malformed_model_output: 'error',
  malformed_tool_use: 'error',
};

export function finishReasonFromBedrock(stopReason: unknown): NeutralFinishReason {
  const raw = optionalString(stopReason);
  return { unified: (raw !== undefined ? unifiedByStopReason[raw] : undefined) ?? 'other', raw };
}

/** The Bedrock word for a unified reason; `error` and `other` have none, so they end the turn. */
const stopReasonByUnified: Record<NeutralFinishReason['unified'], string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  'tool-calls': 'tool_use',
  'content-filter': 'content_filtered',
  error: 'end_turn',
  other: 'end_turn',
};

/** The provider's own word survives when it is a Bedrock one, so Bedrock → Bedrock is exact. */
export function stopReasonToBedrock(finishReason: NeutralFinishReason): string {
  if (finishReason.raw !== undefined && finishReason.raw in unifiedByStopReason) return finishReason.raw;
  return stopReasonByUnified[finishReason.unified];
}

/**
 * Bedrock `TokenUsage` (Converse body `usage`, ConverseStream `metadata.usage`). With prompt
 * caching on, `inputTokens` counts only the uncached part and the cache reads and writes are
 * reported beside it (as with Anthropic, whose models Bedrock serves with the same semantics),
 * so the input total is the sum of the three. Bedrock does not split reasoning out of
 * `outputTokens`, so all output counts as text.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_TokenUsage.html
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html
 */
export function usageFromBedrock(usage: unknown): Usage | undefined {
  if (!isRecord(usage)) return undefined;
  const noCache = count(usage.inputTokens);
  const output = count(usage.outputTokens);
  const cacheRead = count(usage.cacheReadInputTokens) ?? 0;
  const cacheWrite = count(usage.cacheWriteInputTokens) ?? 0;
  if (noCache === undefined && output === undefined && cacheRead === 0 && cacheWrite === 0) return undefined;
  const input = { noCache: noCache ?? 0, cacheRead, cacheWrite };
  return {
    input: { total: input.noCache + cacheRead + cacheWrite, ...input },
    output: { total: output ?? 0, text: output ?? 0, reasoning: 0 },
  };
}

/** The inverse of {@link usageFromBedrock}; cache fields appear only when there is something to say. */
export function usageToBedrock(usage: Usage): Record<string, number> {
  const rendered: Record<string, number> = {
    inputTokens: usage.input.noCache,
    outputTokens: usage.output.total,
    totalTokens: usage.input.total + usage.output.total,
  };
  if (usage.input.cacheRead > 0) rendered.cacheReadInputTokens = usage.input.cacheRead;
  if (usage.input.cacheWrite > 0) rendered.cacheWriteInputTokens = usage.input.cacheWrite;
  return rendered;
}
