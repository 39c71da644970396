/**
 * OpenAI Chat Completions response bodies ⇄ neutral responses.
 * @see https://platform.openai.com/docs/api-reference/chat/object
 */

import { isRecord, optionalString } from '../../json.js';
import { emptyUsage } from '../../usage.js';
import { usageFromOpenAiChat } from '../../usage-extract.js';
import type { NeutralAssistantPart, NeutralResponse, Translated } from '../neutral.js';
import { invalid, Warnings } from '../warnings.js';
import {
  type Clock,
  finishReasonFromOpenAi,
  finishReasonToOpenAi,
  parseArguments,
  renderUsage,
  stringifyArguments,
} from './shared.js';

/** Only the first choice translates: neutral responses have one answer (requests never ask for `n` > 1). */
export function parseOpenAiChatResponse(body: unknown): Translated<NeutralResponse> {
  if (!isRecord(body)) throw invalid('The Chat Completions response body is not a JSON object.');
  const warnings = new Warnings();
  const choices = Array.isArray(body.choices) ? body.choices : [];
  if (choices.length > 1) warnings.add('dropped', 'choices', 'only the first choice is kept');
  const choice = isRecord(choices[0]) ? choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};

  const content: NeutralAssistantPart[] = [];
  const reasoning = optionalString(message.reasoning_content);
  if (reasoning) content.push({ type: 'reasoning', text: reasoning });
  if (typeof message.content === 'string' && message.content !== '')
    content.push({ type: 'text', text: message.content });
  if (typeof message.refusal === 'string' && message.refusal !== '') {
    // A refusal is the model's visible answer; neutral has no refusal part, so it travels as text.
    warnings.add('approximated', 'refusal', 'refusal sent as text');
    content.push({ type: 'text', text: message.refusal });
  }
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (!isRecord(call)) continue;
      const fn = isRecord(call.function) ? call.function : {};
      content.push({
        type: 'tool-call',
        id: optionalString(call.id) ?? '',
        name: optionalString(fn.name) ?? '',
        input: parseArguments(fn.arguments, warnings),
      });
    }
  }
  const value: NeutralResponse = {
    id: optionalString(body.id) ?? '',
    model: optionalString(body.model) ?? '',
    content,
    finishReason: finishReasonFromOpenAi(choice.finish_reason),
    usage: usageFromOpenAiChat(body.usage) ?? emptyUsage(),
  };
  return { value, warnings: warnings.list };
}

/**
 * `reasoning_content` is not OpenAI's own field, but the one OpenAI-compatible servers use for
 * visible reasoning; OpenAI SDKs ignore it. Signatures and encrypted reasoning only make sense
 * to the provider that made them, and are dropped.
 */
export function renderOpenAiChatResponse(
  response: NeutralResponse,
  clock: Clock,
): Translated<Record<string, unknown>> {
  const warnings = new Warnings();
  const texts: string[] = [];
  const reasoning: string[] = [];
  const toolCalls: Record<string, unknown>[] = [];
  for (const part of response.content) {
    if (part.type === 'text') texts.push(part.text);
    else if (part.type === 'tool-call') {
      toolCalls.push({
        id: part.id,
        type: 'function',
        function: { name: part.name, arguments: stringifyArguments(part.input) },
      });
    } else {
      if (part.text !== '') reasoning.push(part.text);
      if (part.signature !== undefined || part.encrypted !== undefined)
        warnings.add('dropped', 'reasoning.signature');
    }
  }
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : null,
    ...(reasoning.length > 0 ? { reasoning_content: reasoning.join('') } : {}),
    ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    refusal: null,
  };
  const body = {
    id: response.id,
    object: 'chat.completion',
    created: Math.floor(clock.now() / 1000),
    model: response.model,
    choices: [
      { index: 0, message, logprobs: null, finish_reason: finishReasonToOpenAi(response.finishReason) },
    ],
    usage: renderUsage(response.usage),
  };
  return { value: body, warnings: warnings.list };
}
