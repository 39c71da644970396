/**
 * Bedrock `ContentBlock` ⇄ neutral parts. A block is a union object with exactly one member
 * (`text`, `image`, `toolUse`, `toolResult`, `reasoningContent`, …); members neutral has no
 * place for (documents, video, cache points, guard content, citations) are dropped with a warning.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ContentBlock.html
 */
import { GatewayError } from '../../errors.js';
import { isRecord, optionalString } from '../../json.js';
import type {
  NeutralAssistantPart,
  NeutralImagePart,
  NeutralTextPart,
  NeutralToolResultPart,
  NeutralUserPart,
  TranslationWarning,
} from '../neutral.js';

type NeutralPart = NeutralUserPart | NeutralAssistantPart;
type Block = Record<string, unknown>;

/** The one member name of a union block, for warnings about blocks we cannot carry. */
function memberName(block: Block): string {
  return Object.keys(block)[0] ?? 'unknown';
}

/**
 * Bedrock names image formats, neutral carries media types. `s3Location` sources become
 * `s3://` URLs so a Bedrock → Bedrock hop keeps them.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ImageBlock.html
 */
function parseImage(image: unknown, warnings: TranslationWarning[]): NeutralImagePart | undefined {
  if (!isRecord(image) || !isRecord(image.source)) {
    warnings.push({ kind: 'dropped', feature: 'image', detail: 'image block without a source' });
    return undefined;
  }
  const format = optionalString(image.format) ?? 'png';
  const source = image.source;
  if (typeof source.bytes === 'string') {
    return { type: 'image', source: { kind: 'base64', mediaType: `image/${format}`, data: source.bytes } };
  }
  if (isRecord(source.s3Location) && typeof source.s3Location.uri === 'string') {
    return { type: 'image', source: { kind: 'url', url: source.s3Location.uri } };
  }
  warnings.push({ kind: 'dropped', feature: 'image', detail: 'unsupported image source' });
  return undefined;
}

const formatByMediaType: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

const formatByExtension: Record<string, string> = {
  png: 'png',
  jpg: 'jpeg',
  jpeg: 'jpeg',
  gif: 'gif',
  webp: 'webp',
};

/** Bedrock takes inline bytes or S3 objects only: it never fetches an http(s) URL itself. */
function renderImage(part: NeutralImagePart): Block {
  if (part.source.kind === 'base64') {
    const format = formatByMediaType[part.source.mediaType.toLowerCase()];
    if (format === undefined) {
      throw new GatewayError(
        'invalid_request',
        `Bedrock Converse accepts png, jpeg, gif and webp images only, not ${part.source.mediaType}.`,
      );
    }
    return { image: { format, source: { bytes: part.source.data } } };
  }
  const url = part.source.url;
  const extension = url.split('?')[0]?.split('.').pop()?.toLowerCase() ?? '';
  const format = formatByExtension[extension];
  if (url.startsWith('s3://') && format !== undefined) {
    return { image: { format, source: { s3Location: { uri: url } } } };
  }
  throw new GatewayError(
    'invalid_request',
    'Bedrock Converse cannot fetch images by URL: send the image inline as base64 data.',
  );
}

/** Tool results carry text, JSON and images; JSON becomes text, since neutral has no JSON part. */
function parseToolResult(result: Block, warnings: TranslationWarning[]): NeutralToolResultPart {
  const content: (NeutralTextPart | NeutralImagePart)[] = [];
  for (const item of Array.isArray(result.content) ? result.content : []) {
    if (!isRecord(item)) continue;
    if (typeof item.text === 'string') {
      content.push({ type: 'text', text: item.text });
    } else if ('json' in item) {
      warnings.push({
        kind: 'approximated',
        feature: 'tool_result_json',
        detail: 'JSON result sent as text',
      });
      content.push({ type: 'text', text: JSON.stringify(item.json) });
    } else if ('image' in item) {
      const image = parseImage(item.image, warnings);
      if (image !== undefined) content.push(image);
    } else {
      warnings.push({ kind: 'dropped', feature: `tool_result_${memberName(item)}` });
    }
  }
  return {
    type: 'tool-result',
    toolCallId: optionalString(result.toolUseId) ?? '',
    toolName: undefined,
    content,
    isError: result.status === 'error',
  };
}

/** One Bedrock block as neutral parts (zero when it has no neutral counterpart). */
function parseBlock(block: unknown, warnings: TranslationWarning[]): NeutralPart[] {
  if (!isRecord(block)) return [];
  if (typeof block.text === 'string') return [{ type: 'text', text: block.text }];
  if ('image' in block) {
    const image = parseImage(block.image, warnings);
    return image === undefined ? [] : [image];
  }
  if (isRecord(block.toolUse)) {
    const call = block.toolUse;
    return [
      {
        type: 'tool-call',
        id: optionalString(call.toolUseId) ?? '',
        name: optionalString(call.name) ?? '',
        input: call.input ?? {},
      },
    ];
  }
  if (isRecord(block.toolResult)) return [parseToolResult(block.toolResult, warnings)];
  if (isRecord(block.reasoningContent)) {
    const reasoning = block.reasoningContent;
    if (isRecord(reasoning.reasoningText)) {
      const text = optionalString(reasoning.reasoningText.text) ?? '';
      const signature = optionalString(reasoning.reasoningText.signature);
      return [signature === undefined ? { type: 'reasoning', text } : { type: 'reasoning', text, signature }];
    }
    if (typeof reasoning.redactedContent === 'string') {
      return [{ type: 'reasoning', text: '', encrypted: reasoning.redactedContent }];
    }
  }
  warnings.push({ kind: 'dropped', feature: memberName(block) });
  return [];
}

const userPartTypes = new Set(['text', 'image', 'tool-result']);
const assistantPartTypes = new Set(['text', 'tool-call', 'reasoning']);

/** A user turn's blocks; anything only an assistant may say is dropped with a warning. */
export function parseUserContent(blocks: unknown[], warnings: TranslationWarning[]): NeutralUserPart[] {
  return blocks
    .flatMap((block) => parseBlock(block, warnings))
    .filter((part): part is NeutralUserPart => keep(part, userPartTypes, 'user', warnings));
}

export function parseAssistantContent(
  blocks: unknown[],
  warnings: TranslationWarning[],
): NeutralAssistantPart[] {
  return blocks
    .flatMap((block) => parseBlock(block, warnings))
    .filter((part): part is NeutralAssistantPart => keep(part, assistantPartTypes, 'assistant', warnings));
}

function keep(
  part: NeutralPart,
  allowed: Set<string>,
  role: string,
  warnings: TranslationWarning[],
): boolean {
  if (allowed.has(part.type)) return true;
  warnings.push({ kind: 'dropped', feature: part.type, detail: `not allowed in a ${role} turn` });
  return false;
}

/**
 * How to render a turn. `toolBlocksAsText` is for a history holding tool calls while the request
 * offers no tools: Bedrock refuses toolUse/toolResult blocks without a `toolConfig`, so they are
 * spelled out as text instead.
 */
export interface RenderContentOptions {
  toolBlocksAsText: boolean;
  /** Bedrock's responses may carry unsigned reasoning; only requests must refuse it. */
  requireSignedReasoning: boolean;
}

function renderToolInput(input: unknown, warnings: TranslationWarning[]): unknown {
  if (isRecord(input)) return input;
  warnings.push({
    kind: 'approximated',
    feature: 'tool_call_input',
    detail: 'non-object tool input sent as {}',
  });
  return {};
}

/** One neutral part as Bedrock blocks (none when it cannot be carried, with a warning). */
export function renderPart(
  part: NeutralPart,
  options: RenderContentOptions,
  warnings: TranslationWarning[],
): Block[] {
  switch (part.type) {
    case 'text':
      // Bedrock rejects blank text blocks outright, so an empty one cannot be sent as is.
      if (part.text === '') {
        warnings.push({
          kind: 'dropped',
          feature: 'empty_text',
          detail: 'Bedrock rejects blank text blocks',
        });
        return [];
      }
      return [{ text: part.text }];
    case 'image':
      return [renderImage(part)];
    case 'tool-call':
      if (options.toolBlocksAsText) {
        return [{ text: `[tool call ${part.name} (${part.id}): ${JSON.stringify(part.input ?? {})}]` }];
      }
      return [
        { toolUse: { toolUseId: part.id, name: part.name, input: renderToolInput(part.input, warnings) } },
      ];
    case 'tool-result': {
      const content = part.content.flatMap((item) => renderPart(item, options, warnings));
      if (options.toolBlocksAsText) {
        const label = `[tool result for ${part.toolCallId}${part.isError ? ' (error)' : ''}]`;
        return [{ text: label }, ...content];
      }
      // `status` is only understood by some models (Claude, Nova), so it is sent only when it matters.
      const result: Block = { toolUseId: part.toolCallId, content };
      if (part.isError) result.status = 'error';
      return [{ toolResult: result }];
    }
    case 'reasoning':
      if (part.encrypted !== undefined) return [{ reasoningContent: { redactedContent: part.encrypted } }];
      if (part.signature !== undefined) {
        return [{ reasoningContent: { reasoningText: { text: part.text, signature: part.signature } } }];
      }
      if (options.requireSignedReasoning) {
        // Claude on Bedrock refuses thinking it cannot verify; other families' reasoning has no signature.
        warnings.push({
          kind: 'dropped',
          feature: 'reasoning',
          detail: 'reasoning without a Bedrock signature',
        });
        return [];
      }
      return [{ reasoningContent: { reasoningText: { text: part.text } } }];
  }
}
