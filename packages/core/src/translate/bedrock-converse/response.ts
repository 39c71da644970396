/**
 * Bedrock Converse response body ⇄ neutral response. The body carries neither an id nor the
 * model (the request id is the `x-amzn-RequestId` header and the model is in the URL), so
 * `parseResponse` leaves both empty for the provider module to fill in.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax
 */

import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json.js';
import { emptyUsage } from '../../usage.js';
import type { NeutralResponse, Translated, TranslationWarning } from '../neutral.js';
import { parseAssistantContent, renderPart } from './content.js';
import { finishReasonFromBedrock, stopReasonToBedrock, usageFromBedrock, usageToBedrock } from './wire.js';

export function parseResponse(body: unknown): Translated<NeutralResponse> {
  if (!isRecord(body))
    throw new GatewayError('invalid_request', 'Bedrock Converse response must be a JSON object.');
  const warnings: TranslationWarning[] = [];
  const message = isRecord(body.output) && isRecord(body.output.message) ? body.output.message : {};
  const content = parseAssistantContent(Array.isArray(message.content) ? message.content : [], warnings);
  // Model-specific extras (e.g. a stop sequence's text) have no neutral place.
  if (body.additionalModelResponseFields !== undefined) {
    warnings.push({ kind: 'dropped', feature: 'additionalModelResponseFields' });
  }
  return {
    value: {
      id: '',
      model: '',
      content,
      finishReason: finishReasonFromBedrock(body.stopReason),
      usage: usageFromBedrock(body.usage) ?? emptyUsage(),
    },
    warnings,
  };
}

/**
 * `metrics.latencyMs` is required by the shape but unknown to a translator, so it is 0. Unsigned
 * reasoning stays: Bedrock's own answers carry it for models that do not sign their reasoning.
 */
export function renderResponse(response: NeutralResponse): Translated<Record<string, unknown>> {
  const warnings: TranslationWarning[] = [];
  const options = { toolBlocksAsText: false, requireSignedReasoning: false };
  const content = response.content.flatMap((part) => renderPart(part, options, warnings));
  return {
    value: {
      output: { message: { role: 'assistant', content } },
      stopReason: stopReasonToBedrock(response.finishReason),
      usage: usageToBedrock(response.usage),
      metrics: { latencyMs: 0 },
    },
    warnings,
  };
}
