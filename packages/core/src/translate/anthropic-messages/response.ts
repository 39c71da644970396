/**
 * Anthropic Messages response bodies ⇄ neutral responses.
 * @see https://docs.anthropic.com/en/api/messages#response
 */

import { isRecord, optionalString } from '../../json.js';
import { emptyUsage } from '../../usage.js';
import { usageFromAnthropic } from '../../usage-extract.js';
import type { NeutralAssistantPart, NeutralResponse, Translated } from '../neutral.js';
import { invalid, Warnings } from '../warnings.js';
import { parseAssistantBlock, renderToolInput } from './content.js';
import { finishReasonFromStopReason, renderUsage, stopReasonFromFinishReason } from './shared.js';

export function parseAnthropicResponse(body: unknown): Translated<NeutralResponse> {
  if (!isRecord(body)) throw invalid('The Anthropic response body is not a JSON object.');
  const warnings = new Warnings();
  const blocks = Array.isArray(body.content) ? body.content : [];
  const content = blocks.flatMap((block) => parseAssistantBlock(block, warnings) ?? []);
  // The matched stop sequence has no neutral field; the reason itself is kept.
  if (typeof body.stop_sequence === 'string') warnings.add('dropped', 'stop_sequence', body.stop_sequence);
  const value: NeutralResponse = {
    id: optionalString(body.id) ?? '',
    model: optionalString(body.model) ?? '',
    content,
    finishReason: finishReasonFromStopReason(body.stop_reason),
    usage: usageFromAnthropic(body.usage) ?? emptyUsage(),
  };
  return { value, warnings: warnings.list };
}

export function renderAnthropicResponse(response: NeutralResponse): Translated<Record<string, unknown>> {
  const warnings = new Warnings();
  const body = {
    id: response.id,
    type: 'message',
    role: 'assistant',
    model: response.model,
    content: response.content.map((part) => renderPart(part, warnings)),
    stop_reason: stopReasonFromFinishReason(response.finishReason),
    stop_sequence: null,
    usage: renderUsage(response.usage),
  };
  return { value: body, warnings: warnings.list };
}

/**
 * Reasoning from another provider has no signature. The client still sees it as thinking (with
 * an empty signature): it is the model's reasoning, and it only goes back to that provider.
 */
function renderPart(part: NeutralAssistantPart, warnings: Warnings): Record<string, unknown> {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'tool-call':
      return { type: 'tool_use', id: part.id, name: part.name, input: renderToolInput(part.input, warnings) };
    case 'reasoning':
      if (part.encrypted !== undefined && part.text === '')
        return { type: 'redacted_thinking', data: part.encrypted };
      if (part.encrypted !== undefined) warnings.add('dropped', 'reasoning.encrypted');
      return { type: 'thinking', thinking: part.text, signature: part.signature ?? '' };
  }
}
