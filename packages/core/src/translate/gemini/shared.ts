/**
 * Small pieces the Gemini request, response and stream mappers share: usage, finish reasons and
 * tool arguments.
 * @see https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse
 */

import { isRecord } from '../../json.js';
import { emptyUsage, type Usage } from '../../usage.js';
import { usageFromOpenAiChat } from '../../usage-extract.js';
import type { NeutralFinishReason, TranslationWarning } from '../neutral.js';

/**
 * `usageMetadata`: `promptTokenCount` already includes `cachedContentTokenCount`, but
 * `candidatesTokenCount` leaves out `thoughtsTokenCount`, which is billed as output too. Tool-use
 * prompt tokens (search results fed back in) are input. Mapped onto the chat-completions shape so
 * the one tested extractor does the carving.
 * @see https://ai.google.dev/api/generate-content#UsageMetadata
 */
export function usageFromGemini(metadata: unknown): Usage | undefined {
  if (!isRecord(metadata)) return undefined;
  const count = (value: unknown): number | undefined =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
  const prompt = count(metadata.promptTokenCount);
  const candidates = count(metadata.candidatesTokenCount);
  const thoughts = count(metadata.thoughtsTokenCount) ?? 0;
  const toolPrompt = count(metadata.toolUsePromptTokenCount) ?? 0;
  if (prompt === undefined && candidates === undefined && thoughts === 0) return undefined;
  return usageFromOpenAiChat({
    prompt_tokens: (prompt ?? 0) + toolPrompt,
    completion_tokens: (candidates ?? 0) + thoughts,
    prompt_tokens_details: { cached_tokens: metadata.cachedContentTokenCount },
    completion_tokens_details: { reasoning_tokens: thoughts },
  });
}

/** Neutral usage as `usageMetadata`; counts that are zero are left out, as Gemini does. */
export function renderUsageMetadata(usage: Usage | undefined): Record<string, unknown> {
  const value = usage ?? emptyUsage();
  const metadata: Record<string, unknown> = {
    promptTokenCount: value.input.total,
    candidatesTokenCount: value.output.text,
    totalTokenCount: value.input.total + value.output.total,
  };
  if (value.input.cacheRead > 0) metadata.cachedContentTokenCount = value.input.cacheRead;
  if (value.output.reasoning > 0) metadata.thoughtsTokenCount = value.output.reasoning;
  return metadata;
}

/** @see https://ai.google.dev/api/generate-content#FinishReason */
const unifiedByFinishReason: Record<string, NeutralFinishReason['unified']> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content-filter',
  RECITATION: 'content-filter',
  BLOCKLIST: 'content-filter',
  PROHIBITED_CONTENT: 'content-filter',
  SPII: 'content-filter',
  IMAGE_SAFETY: 'content-filter',
  IMAGE_PROHIBITED_CONTENT: 'content-filter',
  IMAGE_RECITATION: 'content-filter',
  MALFORMED_FUNCTION_CALL: 'error',
  UNEXPECTED_TOOL_CALL: 'error',
  TOO_MANY_TOOL_CALLS: 'error',
  LANGUAGE: 'other',
  OTHER: 'other',
  IMAGE_OTHER: 'other',
  NO_IMAGE: 'other',
  FINISH_REASON_UNSPECIFIED: 'other',
};

/** Gemini says STOP after function calls too; the neutral reason tells them apart. */
export function finishReasonFromGemini(raw: string, calledTools: boolean): NeutralFinishReason {
  const unified = unifiedByFinishReason[raw] ?? 'other';
  return { unified: unified === 'stop' && calledTools ? 'tool-calls' : unified, raw };
}

/** A prompt blocked before any candidate exists (`promptFeedback.blockReason`). */
export function finishReasonFromBlock(blockReason: string): NeutralFinishReason {
  return { unified: 'content-filter', raw: blockReason };
}

/** Gemini's own word when the raw reason is one (a Gemini round trip), else the unified mapping. */
export function renderFinishReason(finishReason: NeutralFinishReason): string {
  if (finishReason.raw !== undefined && finishReason.raw in unifiedByFinishReason) return finishReason.raw;
  switch (finishReason.unified) {
    case 'length':
      return 'MAX_TOKENS';
    case 'content-filter':
      return 'SAFETY';
    case 'stop':
    case 'tool-calls':
      return 'STOP';
    default:
      return 'OTHER';
  }
}

/**
 * Function-call `args` must be an object. Neutral input is one already; a string (arguments a
 * model got wrong upstream) is parsed when it can be.
 */
export function argsObject(input: unknown, warnings: TranslationWarning[]): Record<string, unknown> {
  if (isRecord(input)) return input;
  if (typeof input === 'string') {
    try {
      const parsed: unknown = JSON.parse(input);
      if (isRecord(parsed)) return parsed;
    } catch {
      // reported below
    }
  }
  if (input !== undefined)
    warnings.push({
      kind: 'approximated',
      feature: 'functionCall.args',
      detail: 'not an object, sent as {}',
    });
  return {};
}

/**
 * Gemini function calls often carry no id: generated ids are `call_<n>`, prefixed by the
 * response id when there is one so ids stay unique across turns of a conversation.
 */
export function generatedCallId(responseId: string, index: number): string {
  return responseId === '' ? `call_${index}` : `call_${responseId}_${index}`;
}

/** Gemini 3 and later: thinking levels instead of budgets, and signatures required on replayed calls. */
export function isGemini3OrLater(model: string): boolean {
  return /(^|\/)gemini-([3-9]|\d{2,})/.test(model);
}
