/**
 * Anthropic content blocks ⇄ neutral parts, for requests and responses alike.
 * @see https://docs.anthropic.com/en/api/messages#body-messages-content
 */

import { isRecord, optionalString } from '../../json.js';
import type {
  NeutralAssistantPart,
  NeutralImagePart,
  NeutralTextPart,
  NeutralToolResultPart,
  NeutralUserPart,
} from '../neutral.js';
import { invalid, type Warnings } from '../warnings.js';

/** Prompt caching is Anthropic's own; other providers cache implicitly or not at all. */
function noteCacheControl(block: Record<string, unknown>, warnings: Warnings): void {
  if (block.cache_control !== undefined) warnings.add('dropped', 'cache_control');
}

function parseText(block: Record<string, unknown>, warnings: Warnings): NeutralTextPart {
  noteCacheControl(block, warnings);
  if (block.citations !== undefined && block.citations !== null) warnings.add('dropped', 'citations');
  return { type: 'text', text: optionalString(block.text) ?? '' };
}

/**
 * `file` sources point into Anthropic's Files API, which no other provider can read: refused
 * rather than silently sent without the image.
 * @see https://docs.anthropic.com/en/api/messages#body-messages-content-image
 */
function parseImage(block: Record<string, unknown>, warnings: Warnings): NeutralImagePart {
  noteCacheControl(block, warnings);
  const source = isRecord(block.source) ? block.source : {};
  if (source.type === 'base64') {
    return {
      type: 'image',
      source: {
        kind: 'base64',
        mediaType: optionalString(source.media_type) ?? '',
        data: optionalString(source.data) ?? '',
      },
    };
  }
  if (source.type === 'url')
    return { type: 'image', source: { kind: 'url', url: optionalString(source.url) ?? '' } };
  throw invalid(`Image source type '${String(source.type)}' cannot be translated for this provider.`);
}

function parseToolResult(block: Record<string, unknown>, warnings: Warnings): NeutralToolResultPart {
  noteCacheControl(block, warnings);
  const content: NeutralToolResultPart['content'] = [];
  if (typeof block.content === 'string') {
    content.push({ type: 'text', text: block.content });
  } else if (Array.isArray(block.content)) {
    for (const item of block.content) {
      if (!isRecord(item)) continue;
      if (item.type === 'text') content.push(parseText(item, warnings));
      else if (item.type === 'image') content.push(parseImage(item, warnings));
      else
        throw invalid(
          `Tool result content of type '${String(item.type)}' cannot be translated for this provider.`,
        );
    }
  }
  return {
    type: 'tool-result',
    toolCallId: optionalString(block.tool_use_id) ?? '',
    toolName: undefined,
    content,
    isError: block.is_error === true,
  };
}

/** Blocks of a user turn. Documents (PDF, plain text sources) have no neutral form yet. */
export function parseUserBlock(block: unknown, warnings: Warnings): NeutralUserPart {
  if (!isRecord(block)) throw invalid('Each message content block must be an object.');
  switch (block.type) {
    case 'text':
      return parseText(block, warnings);
    case 'image':
      return parseImage(block, warnings);
    case 'tool_result':
      return parseToolResult(block, warnings);
    default:
      throw invalid(
        `User content block of type '${String(block.type)}' cannot be translated for this provider.`,
      );
  }
}

/**
 * Blocks of an assistant turn (in a request's history or a response). Thinking keeps its
 * signature; redacted thinking keeps its opaque `data` as `encrypted`. An empty signature is
 * no signature.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking
 */
export function parseAssistantBlock(block: unknown, warnings: Warnings): NeutralAssistantPart | undefined {
  if (!isRecord(block)) throw invalid('Each message content block must be an object.');
  switch (block.type) {
    case 'text':
      return parseText(block, warnings);
    case 'tool_use':
      noteCacheControl(block, warnings);
      return {
        type: 'tool-call',
        id: optionalString(block.id) ?? '',
        name: optionalString(block.name) ?? '',
        input: block.input ?? {},
      };
    case 'thinking': {
      const signature = optionalString(block.signature);
      return {
        type: 'reasoning',
        text: optionalString(block.thinking) ?? '',
        signature: signature || undefined,
      };
    }
    case 'redacted_thinking':
      return { type: 'reasoning', text: '', encrypted: optionalString(block.data) ?? '' };
    default:
      // Server tools (web search, code execution) run inside Anthropic; their blocks mean nothing elsewhere.
      warnings.add('dropped', `content_block:${String(block.type)}`);
      return undefined;
  }
}

/** Neutral user parts as Anthropic blocks; `tool_result` content collapses to a string when it is one text. */
export function renderUserPart(part: NeutralUserPart): Record<string, unknown> {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image':
      return renderImage(part);
    case 'tool-result': {
      const only = part.content.length === 1 ? part.content[0] : undefined;
      const content =
        only?.type === 'text'
          ? only.text
          : part.content.map((item) =>
              item.type === 'text' ? { type: 'text', text: item.text } : renderImage(item),
            );
      return {
        type: 'tool_result',
        tool_use_id: part.toolCallId,
        content,
        ...(part.isError ? { is_error: true } : {}),
      };
    }
  }
}

function renderImage(part: NeutralImagePart): Record<string, unknown> {
  const source =
    part.source.kind === 'base64'
      ? { type: 'base64', media_type: part.source.mediaType, data: part.source.data }
      : { type: 'url', url: part.source.url };
  return { type: 'image', source };
}

/**
 * Tool input must be a JSON object on Anthropic's side. A string input is taken as JSON text
 * (the neutral convention for arguments that could not be parsed).
 */
export function renderToolInput(input: unknown, warnings: Warnings): Record<string, unknown> {
  if (isRecord(input)) return input;
  if (typeof input === 'string') {
    try {
      const parsed: unknown = JSON.parse(input);
      if (isRecord(parsed)) return parsed;
    } catch {
      // Falls through to the approximation below.
    }
  }
  warnings.add('approximated', 'tool_use.input', 'tool input was not a JSON object; sent as {}');
  return {};
}
