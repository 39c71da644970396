/**
 * OpenAI Responses response objects ↔ the neutral response.
 * @see https://platform.openai.com/docs/api-reference/responses/object
 */
import { GatewayError } from '../../errors.js';
import { isRecord, stringOr } from '../../json.js';
import { emptyUsage } from '../../usage.js';
import type { NeutralAssistantPart, NeutralResponse, Translated, TranslationWarning } from '../neutral.js';
import {
  finishReasonFromResponse,
  itemId,
  parseArguments,
  renderUsage,
  statusFromFinishReason,
  stringifyArguments,
  usageFromResponses,
} from './shared.js';

function summaryText(item: Record<string, unknown>): string {
  const summary = Array.isArray(item.summary) ? item.summary.filter(isRecord) : [];
  const content = Array.isArray(item.content) ? item.content.filter(isRecord) : [];
  // Summaries are what OpenAI's own models return; open-weight models behind the API send content.
  return (summary.length > 0 ? summary : content).map((piece) => stringOr(piece.text, '')).join('\n\n');
}

/** Reads the `output` items of a Responses object into neutral content. */
export function parseResponse(body: unknown): Translated<NeutralResponse> {
  if (!isRecord(body)) throw new GatewayError('invalid_request', 'The response body must be a JSON object.');
  const warnings: TranslationWarning[] = [];
  const content: NeutralAssistantPart[] = [];
  let calledTools = false;
  for (const item of Array.isArray(body.output) ? body.output : []) {
    if (!isRecord(item)) continue;
    if (item.type === 'message') {
      for (const part of Array.isArray(item.content) ? item.content : []) {
        if (!isRecord(part)) continue;
        if (part.type === 'output_text') content.push({ type: 'text', text: stringOr(part.text, '') });
        else if (part.type === 'refusal') content.push({ type: 'text', text: stringOr(part.refusal, '') });
        else warnings.push({ kind: 'dropped', feature: `output.content.${String(part.type)}` });
      }
    } else if (item.type === 'function_call') {
      calledTools = true;
      content.push({
        type: 'tool-call',
        id: stringOr(item.call_id, ''),
        name: stringOr(item.name, ''),
        input: parseArguments(stringOr(item.arguments, ''), 'function_call.arguments', warnings),
      });
    } else if (item.type === 'reasoning') {
      const encrypted = typeof item.encrypted_content === 'string' ? item.encrypted_content : undefined;
      content.push({ type: 'reasoning', text: summaryText(item), encrypted });
    } else {
      warnings.push({ kind: 'dropped', feature: `output.${String(item.type)}` });
    }
  }
  const incomplete = isRecord(body.incomplete_details) ? body.incomplete_details.reason : undefined;
  return {
    value: {
      id: stringOr(body.id, ''),
      model: stringOr(body.model, ''),
      content,
      finishReason: finishReasonFromResponse(body.status, incomplete, calledTools),
      usage: usageFromResponses(body.usage) ?? emptyUsage(),
    },
    warnings,
  };
}

/** One output item per text run, function call and reasoning part, in order. */
export function renderOutputItems(
  responseId: string,
  content: NeutralAssistantPart[],
  warnings: TranslationWarning[],
): Record<string, unknown>[] {
  const output: Record<string, unknown>[] = [];
  for (const part of content) {
    const index = output.length;
    if (part.type === 'text') {
      const last = output.at(-1);
      if (last?.type === 'message' && Array.isArray(last.content)) {
        last.content.push({ type: 'output_text', text: part.text, annotations: [] });
        continue;
      }
      output.push(messageItem(itemId('msg', responseId, index), part.text));
    } else if (part.type === 'tool-call') {
      output.push(
        functionCallItem(itemId('fc', responseId, index), part.id, part.name, stringifyArguments(part.input)),
      );
    } else {
      if (part.signature !== undefined) warnings.push({ kind: 'dropped', feature: 'reasoning.signature' });
      output.push(reasoningItem(itemId('rs', responseId, index), part.text, part.encrypted));
    }
  }
  return output;
}

export function messageItem(id: string, text: string): Record<string, unknown> {
  return {
    id,
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [] }],
  };
}

export function functionCallItem(
  id: string,
  callId: string,
  name: string,
  args: string,
): Record<string, unknown> {
  return { id, type: 'function_call', status: 'completed', call_id: callId, name, arguments: args };
}

export function reasoningItem(
  id: string,
  text: string,
  encrypted: string | undefined,
): Record<string, unknown> {
  const item: Record<string, unknown> = {
    id,
    type: 'reasoning',
    summary: text === '' ? [] : [{ type: 'summary_text', text }],
  };
  if (encrypted !== undefined) item.encrypted_content = encrypted;
  return item;
}

/** The response envelope shared by plain answers and the stream's lifecycle events. */
export function responseObject(fields: {
  id: string;
  createdAt: number;
  model: string;
  status: string;
  incompleteDetails: { reason: string } | null;
  error: { code: string; message: string } | null;
  output: Record<string, unknown>[];
  usage: Record<string, unknown> | null;
}): Record<string, unknown> {
  return {
    id: fields.id,
    object: 'response',
    created_at: fields.createdAt,
    status: fields.status,
    error: fields.error,
    incomplete_details: fields.incompleteDetails,
    model: fields.model,
    output: fields.output,
    usage: fields.usage,
  };
}

/** Seconds since the epoch, as `created_at` wants; the neutral response carries no timestamp. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The neutral response as a Responses object. */
export function renderResponse(response: NeutralResponse): Translated<Record<string, unknown>> {
  const warnings: TranslationWarning[] = [];
  const { status, incompleteDetails } = statusFromFinishReason(response.finishReason);
  const value = responseObject({
    id: response.id,
    createdAt: nowSeconds(),
    model: response.model,
    status,
    incompleteDetails,
    error:
      status === 'failed'
        ? { code: 'server_error', message: 'The model failed to finish its answer.' }
        : null,
    output: renderOutputItems(response.id, response.content, warnings),
    usage: renderUsage(response.usage),
  });
  return { value, warnings };
}
