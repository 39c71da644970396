/**
 * Gemini `GenerateContentResponse` bodies ↔ the neutral response.
 * @see https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse
 */
import { GatewayError } from '../../errors.js';
import { isRecord, stringOr } from '../../json.js';
import { emptyUsage } from '../../usage.js';
import type { NeutralFinishReason, NeutralResponse, Translated, TranslationWarning } from '../neutral.js';
import { parseModelParts, renderModelParts } from './parts.js';
import {
  finishReasonFromBlock,
  finishReasonFromGemini,
  generatedCallId,
  renderFinishReason,
  renderUsageMetadata,
  usageFromGemini,
} from './shared.js';

/** Reads the first candidate; more candidates have no neutral place and are reported. */
export function parseResponse(body: unknown): Translated<NeutralResponse> {
  if (!isRecord(body)) throw new GatewayError('invalid_request', 'The response body must be a JSON object.');
  const warnings: TranslationWarning[] = [];
  const id = stringOr(body.responseId, '');
  const candidates = Array.isArray(body.candidates) ? body.candidates.filter(isRecord) : [];
  if (candidates.length > 1)
    warnings.push({ kind: 'dropped', feature: 'candidates', detail: `${candidates.length - 1} more` });
  const candidate = candidates[0] ?? {};
  let calls = 0;
  const callId = (_name: string, own: string | undefined): string => own ?? generatedCallId(id, calls++);
  const parts = isRecord(candidate.content) ? candidate.content.parts : undefined;
  const content = parseModelParts(parts, callId, warnings);
  const calledTools = content.some((part) => part.type === 'tool-call');
  let finishReason: NeutralFinishReason;
  if (typeof candidate.finishReason === 'string')
    finishReason = finishReasonFromGemini(candidate.finishReason, calledTools);
  else if (isRecord(body.promptFeedback) && typeof body.promptFeedback.blockReason === 'string') {
    finishReason = finishReasonFromBlock(body.promptFeedback.blockReason);
  } else finishReason = { unified: 'other', raw: undefined };
  return {
    value: {
      id,
      model: stringOr(body.modelVersion, ''),
      content,
      finishReason,
      usage: usageFromGemini(body.usageMetadata) ?? emptyUsage(),
    },
    warnings,
  };
}

/** The neutral response as a one-candidate `GenerateContentResponse`. */
export function renderResponse(response: NeutralResponse): Translated<Record<string, unknown>> {
  const warnings: TranslationWarning[] = [];
  // Call ids go to the client: Gemini CLI echoes them in its functionResponse parts.
  const parts = renderModelParts(response.content, { includeIds: true }, warnings);
  return {
    value: {
      candidates: [
        {
          content: { role: 'model', parts },
          finishReason: renderFinishReason(response.finishReason),
          index: 0,
        },
      ],
      usageMetadata: renderUsageMetadata(response.usage),
      modelVersion: response.model,
      responseId: response.id,
    },
    warnings,
  };
}
