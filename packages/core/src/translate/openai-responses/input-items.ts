/**
 * Responses `input` items ↔ neutral messages. The Responses API flattens a conversation into
 * items (messages, function calls, their outputs, reasoning); the neutral model groups them into
 * alternating turns, with tool results travelling in user turns.
 * @see https://platform.openai.com/docs/api-reference/responses/create#responses-create-input
 */
import { GatewayError } from '../../errors.js';
import { isRecord, stringOr } from '../../json.js';
import type {
  NeutralAssistantPart,
  NeutralImagePart,
  NeutralMessage,
  NeutralTextPart,
  NeutralUserPart,
  TranslationWarning,
} from '../neutral.js';
import { parseArguments, stringifyArguments } from './shared.js';

/** Parsed input: system text found among the items, and the conversation. */
export interface ParsedInput {
  system: NeutralTextPart[];
  messages: NeutralMessage[];
}

/** `data:` URLs become inline bytes; anything else is a URL the provider fetches. */
export function imageFromUrl(url: string): NeutralImagePart {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (match?.[1] !== undefined && match[2] !== undefined) {
    return { type: 'image', source: { kind: 'base64', mediaType: match[1], data: match[2] } };
  }
  return { type: 'image', source: { kind: 'url', url } };
}

/** Content parts of a message or a function output, in order; unknown kinds are warned about. */
function contentParts(
  content: unknown,
  warnings: TranslationWarning[],
): (NeutralTextPart | NeutralImagePart)[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const parts: (NeutralTextPart | NeutralImagePart)[] = [];
  for (const part of content) {
    if (!isRecord(part)) continue;
    if (part.type === 'input_text' || part.type === 'output_text' || part.type === 'text') {
      parts.push({ type: 'text', text: stringOr(part.text, '') });
    } else if (part.type === 'refusal') {
      parts.push({ type: 'text', text: stringOr(part.refusal, '') });
    } else if (part.type === 'input_image' && typeof part.image_url === 'string') {
      if (part.detail !== undefined && part.detail !== 'auto') {
        warnings.push({ kind: 'dropped', feature: 'input_image.detail', detail: String(part.detail) });
      }
      parts.push(imageFromUrl(part.image_url));
    } else {
      // file_id images, input_file and input_audio have no neutral form.
      warnings.push({ kind: 'dropped', feature: `content.${String(part.type)}` });
    }
  }
  return parts;
}

function reasoningText(item: Record<string, unknown>): string {
  const pieces = Array.isArray(item.summary) ? item.summary : Array.isArray(item.content) ? item.content : [];
  return pieces
    .filter(isRecord)
    .map((piece) => stringOr(piece.text, ''))
    .join('\n\n');
}

/** Reads `input` (a string or an item list) into system text and neutral turns. */
export function parseInput(input: unknown, warnings: TranslationWarning[]): ParsedInput {
  const system: NeutralTextPart[] = [];
  const messages: NeutralMessage[] = [];
  if (typeof input === 'string')
    return { system, messages: [{ role: 'user', content: [{ type: 'text', text: input }] }] };
  if (!Array.isArray(input)) return { system, messages };

  // Gemini addresses results by tool name, so remember which name each call id had.
  const namesByCallId = new Map<string, string>();
  const assistant = (): NeutralAssistantPart[] => {
    const last = messages.at(-1);
    if (last?.role === 'assistant') return last.content;
    const content: NeutralAssistantPart[] = [];
    messages.push({ role: 'assistant', content });
    return content;
  };
  const toolResults = (): NeutralUserPart[] => {
    const last = messages.at(-1);
    if (last?.role === 'user' && last.content.every((part) => part.type === 'tool-result'))
      return last.content;
    const content: NeutralUserPart[] = [];
    messages.push({ role: 'user', content });
    return content;
  };

  for (const item of input) {
    if (!isRecord(item)) continue;
    const type = item.type ?? 'message';
    if (type === 'message') {
      if (item.role === 'system' || item.role === 'developer') {
        if (messages.length > 0) {
          warnings.push({
            kind: 'approximated',
            feature: `input.${item.role}`,
            detail: 'moved before the conversation',
          });
        }
        for (const part of contentParts(item.content, warnings)) {
          if (part.type === 'text') system.push(part);
        }
      } else if (item.role === 'assistant') {
        const parts = contentParts(item.content, warnings).filter((part) => part.type === 'text');
        assistant().push(...parts);
      } else {
        messages.push({ role: 'user', content: contentParts(item.content, warnings) });
      }
    } else if (type === 'function_call') {
      const id = stringOr(item.call_id, '');
      const name = stringOr(item.name, '');
      namesByCallId.set(id, name);
      const input = parseArguments(stringOr(item.arguments, ''), `function_call.arguments`, warnings);
      assistant().push({ type: 'tool-call', id, name, input });
    } else if (type === 'function_call_output') {
      const toolCallId = stringOr(item.call_id, '');
      toolResults().push({
        type: 'tool-result',
        toolCallId,
        toolName: namesByCallId.get(toolCallId),
        content: contentParts(item.output, warnings),
        isError: false,
      });
    } else if (type === 'reasoning') {
      const encrypted = typeof item.encrypted_content === 'string' ? item.encrypted_content : undefined;
      assistant().push({ type: 'reasoning', text: reasoningText(item), encrypted });
    } else if (type === 'item_reference') {
      throw new GatewayError(
        'invalid_request',
        'Input items of type item_reference point at responses stored by OpenAI and cannot be translated for another provider.',
      );
    } else {
      // local_shell_call, custom_tool_call, web_search_call and friends belong to hosted tools.
      warnings.push({ kind: 'dropped', feature: `input.${String(type)}` });
    }
  }
  return { system, messages };
}

function renderContent(
  parts: (NeutralTextPart | NeutralImagePart)[],
  textType: string,
): Record<string, unknown>[] {
  return parts.map((part) => {
    if (part.type === 'text') return { type: textType, text: part.text };
    const url =
      part.source.kind === 'base64'
        ? `data:${part.source.mediaType};base64,${part.source.data}`
        : part.source.url;
    return { type: 'input_image', image_url: url };
  });
}

/** Neutral turns as Responses input items, one item per call, result or text run. */
export function renderInput(
  messages: NeutralMessage[],
  warnings: TranslationWarning[],
): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  for (const message of messages) {
    if (message.role === 'user') {
      let pending: (NeutralTextPart | NeutralImagePart)[] = [];
      const flush = (): void => {
        if (pending.length > 0)
          items.push({ type: 'message', role: 'user', content: renderContent(pending, 'input_text') });
        pending = [];
      };
      for (const part of message.content) {
        if (part.type !== 'tool-result') {
          pending.push(part);
          continue;
        }
        flush();
        if (part.isError)
          warnings.push({
            kind: 'approximated',
            feature: 'tool_result.is_error',
            detail: 'sent as a plain output',
          });
        const textOnly = part.content.every((piece) => piece.type === 'text');
        const output = textOnly
          ? part.content.map((piece) => (piece.type === 'text' ? piece.text : '')).join('')
          : renderContent(part.content, 'input_text');
        items.push({ type: 'function_call_output', call_id: part.toolCallId, output });
      }
      flush();
      continue;
    }
    let text: NeutralTextPart[] = [];
    const flush = (): void => {
      if (text.length > 0)
        items.push({ type: 'message', role: 'assistant', content: renderContent(text, 'output_text') });
      text = [];
    };
    for (const part of message.content) {
      if (part.type === 'text') {
        text.push(part);
        continue;
      }
      flush();
      if (part.type === 'tool-call') {
        items.push({
          type: 'function_call',
          call_id: part.id,
          name: part.name,
          arguments: stringifyArguments(part.input),
        });
      } else if (part.encrypted !== undefined) {
        const summary = part.text === '' ? [] : [{ type: 'summary_text', text: part.text }];
        items.push({ type: 'reasoning', summary, encrypted_content: part.encrypted });
      } else {
        // Only OpenAI's own encrypted reasoning can be replayed; another provider's thinking cannot.
        warnings.push({
          kind: 'dropped',
          feature: 'reasoning',
          detail: 'reasoning from another provider cannot be replayed',
        });
      }
    }
    flush();
  }
  return items;
}
