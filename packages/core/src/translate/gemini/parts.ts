/**
 * Gemini `parts` ↔ neutral content. Thought text, `thoughtSignature`s and function calls live
 * side by side in one parts list; a signature on a non-thought part (Gemini puts them on
 * function calls) travels as an empty reasoning part right before the part that carried it, so
 * it finds its way back to the same place.
 * @see https://ai.google.dev/api/caching#Part
 * @see https://ai.google.dev/gemini-api/docs/thought-signatures
 */

import { isRecord, stringOr } from '../../json.js';
import type {
  NeutralAssistantPart,
  NeutralImagePart,
  NeutralToolResultPart,
  NeutralUserPart,
  TranslationWarning,
} from '../neutral.js';
import { argsObject } from './shared.js';

/** The kind of part neutral has no place for (with its media type), named for the warning. */
function unsupportedKind(part: Record<string, unknown>): string {
  const kind = Object.keys(part).find((key) => key !== 'thoughtSignature' && key !== 'thought') ?? 'unknown';
  const data = part[kind];
  return isRecord(data) && typeof data.mimeType === 'string' ? `${kind}(${data.mimeType})` : kind;
}

/** Inline or file data, when it is an image; other media have no neutral form. */
function imageFrom(part: Record<string, unknown>): NeutralImagePart | undefined {
  if (isRecord(part.inlineData)) {
    const mimeType = stringOr(part.inlineData.mimeType, '');
    if (!mimeType.startsWith('image/')) return undefined;
    return {
      type: 'image',
      source: { kind: 'base64', mediaType: mimeType, data: stringOr(part.inlineData.data, '') },
    };
  }
  if (isRecord(part.fileData)) {
    const mimeType = stringOr(part.fileData.mimeType, '');
    if (mimeType !== '' && !mimeType.startsWith('image/')) return undefined;
    return { type: 'image', source: { kind: 'url', url: stringOr(part.fileData.fileUri, '') } };
  }
  return undefined;
}

/** Model-turn parts as assistant content; `callId` returns a call's id, making one up when it has none. */
export function parseModelParts(
  parts: unknown,
  callId: (name: string, id: string | undefined) => string,
  warnings: TranslationWarning[],
): NeutralAssistantPart[] {
  const content: NeutralAssistantPart[] = [];
  let inThoughtRun = false;
  for (const part of Array.isArray(parts) ? parts : []) {
    if (!isRecord(part)) continue;
    const signature = typeof part.thoughtSignature === 'string' ? part.thoughtSignature : undefined;
    if (part.thought === true) {
      const text = stringOr(part.text, '');
      const last = content.at(-1);
      // Streamed thoughts arrive as many parts, the signature on the last: they are one thought.
      if (inThoughtRun && last?.type === 'reasoning' && last.signature === undefined) {
        last.text += text;
        if (signature !== undefined) last.signature = signature;
      } else {
        content.push(
          signature === undefined ? { type: 'reasoning', text } : { type: 'reasoning', text, signature },
        );
      }
      inThoughtRun = true;
      continue;
    }
    inThoughtRun = false;
    if (signature !== undefined) content.push({ type: 'reasoning', text: '', signature });
    if (typeof part.text === 'string') {
      if (part.text !== '') content.push({ type: 'text', text: part.text });
    } else if (isRecord(part.functionCall)) {
      const name = stringOr(part.functionCall.name, '');
      const id = callId(name, typeof part.functionCall.id === 'string' ? part.functionCall.id : undefined);
      content.push({
        type: 'tool-call',
        id,
        name,
        input: isRecord(part.functionCall.args) ? part.functionCall.args : {},
      });
    } else if (signature === undefined) {
      warnings.push({ kind: 'dropped', feature: `parts.${unsupportedKind(part)}` });
    }
  }
  return content;
}

/**
 * A function response as neutral result text. `{result: "…"}` (how this gateway and many clients
 * wrap plain text) and `{error: "…"}` unwrap; anything else stays JSON.
 * @see https://ai.google.dev/api/caching#FunctionResponse
 */
function resultFrom(response: unknown): { text: string; isError: boolean } {
  if (isRecord(response)) {
    const keys = Object.keys(response);
    if (keys.length === 1 && typeof response.result === 'string')
      return { text: response.result, isError: false };
    if (keys.length === 1 && typeof response.error === 'string')
      return { text: response.error, isError: true };
  }
  return { text: JSON.stringify(response ?? {}), isError: false };
}

/** User-turn parts; `resultId` finds the call a function response answers. */
export function parseUserParts(
  parts: unknown,
  resultId: (name: string, id: string | undefined) => string,
  warnings: TranslationWarning[],
): NeutralUserPart[] {
  const content: NeutralUserPart[] = [];
  for (const part of Array.isArray(parts) ? parts : []) {
    if (!isRecord(part)) continue;
    if (typeof part.text === 'string') {
      if (part.thought === true)
        warnings.push({ kind: 'dropped', feature: 'parts.thought', detail: 'in a user turn' });
      else content.push({ type: 'text', text: part.text });
    } else if (isRecord(part.functionResponse)) {
      const name = stringOr(part.functionResponse.name, '');
      const id = typeof part.functionResponse.id === 'string' ? part.functionResponse.id : undefined;
      const { text, isError } = resultFrom(part.functionResponse.response);
      content.push({
        type: 'tool-result',
        toolCallId: resultId(name, id),
        toolName: name,
        content: [{ type: 'text', text }],
        isError,
      });
    } else {
      const image = imageFrom(part);
      if (image !== undefined) content.push(image);
      else warnings.push({ kind: 'dropped', feature: `parts.${unsupportedKind(part)}` });
    }
  }
  return content;
}

/** Guesses an image URL's type from its extension; Gemini's fileData wants one. */
function mimeTypeOfUrl(url: string): string {
  const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase();
  const known: Record<string, string> = {
    png: 'image/png',
    gif: 'image/gif',
    webp: 'image/webp',
    heic: 'image/heic',
  };
  return (extension !== undefined ? known[extension] : undefined) ?? 'image/jpeg';
}

function renderImage(part: NeutralImagePart, warnings: TranslationWarning[]): Record<string, unknown> {
  if (part.source.kind === 'base64')
    return { inlineData: { mimeType: part.source.mediaType, data: part.source.data } };
  warnings.push({
    kind: 'approximated',
    feature: 'image.url',
    detail: 'sent as fileData; Gemini fetches only some URLs',
  });
  return { fileData: { mimeType: mimeTypeOfUrl(part.source.url), fileUri: part.source.url } };
}

/**
 * A tool result as `functionResponse.response`, which must be an object: a JSON object result
 * goes as it is, anything else is wrapped as `{result: …}`.
 */
function renderResult(part: NeutralToolResultPart, warnings: TranslationWarning[]): Record<string, unknown> {
  if (part.content.some((piece) => piece.type === 'image')) {
    warnings.push({ kind: 'dropped', feature: 'tool_result.image' });
  }
  const text = part.content.map((piece) => (piece.type === 'text' ? piece.text : '')).join('');
  if (part.isError) return { error: text };
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : { result: parsed };
  } catch {
    warnings.push({
      kind: 'approximated',
      feature: 'tool_result',
      detail: 'plain text wrapped as {"result": …}',
    });
    return { result: text };
  }
}

/** User content as parts; `nameOf` recovers a result's tool name from its call id. */
export function renderUserParts(
  content: NeutralUserPart[],
  nameOf: (toolCallId: string) => string | undefined,
  warnings: TranslationWarning[],
): Record<string, unknown>[] {
  return content.map((part) => {
    if (part.type === 'text') return { text: part.text };
    if (part.type === 'image') return renderImage(part, warnings);
    let name = part.toolName ?? nameOf(part.toolCallId);
    if (name === undefined) {
      warnings.push({
        kind: 'approximated',
        feature: 'tool_result.name',
        detail: `no call found for ${part.toolCallId}`,
      });
      name = part.toolCallId;
    }
    return { functionResponse: { name, response: renderResult(part, warnings) } };
  });
}

/**
 * Assistant content as model parts. An empty reasoning part's signature goes back onto the part
 * that follows it. Ids are included only when asked: clients echo them, upstream does not need them.
 */
export function renderModelParts(
  content: NeutralAssistantPart[],
  options: { includeIds: boolean },
  warnings: TranslationWarning[],
): Record<string, unknown>[] {
  const parts: Record<string, unknown>[] = [];
  let pendingSignature: string | undefined;
  const signed = (part: Record<string, unknown>): Record<string, unknown> => {
    if (pendingSignature === undefined) return part;
    const withSignature = { ...part, thoughtSignature: pendingSignature };
    pendingSignature = undefined;
    return withSignature;
  };
  for (const part of content) {
    if (part.type === 'reasoning') {
      if (part.text === '' && part.signature !== undefined) {
        if (pendingSignature !== undefined) parts.push(signed({ text: '' }));
        pendingSignature = part.signature;
      } else if (part.text !== '') {
        parts.push(
          signed({
            text: part.text,
            thought: true,
            ...(part.signature === undefined ? {} : { thoughtSignature: part.signature }),
          }),
        );
      }
      if (part.encrypted !== undefined) warnings.push({ kind: 'dropped', feature: 'reasoning.encrypted' });
    } else if (part.type === 'text') {
      parts.push(signed({ text: part.text }));
    } else {
      const call: Record<string, unknown> = options.includeIds ? { id: part.id } : {};
      call.name = part.name;
      call.args = argsObject(part.input, warnings);
      parts.push(signed({ functionCall: call }));
    }
  }
  if (pendingSignature !== undefined) parts.push(signed({ text: '' }));
  return parts;
}
