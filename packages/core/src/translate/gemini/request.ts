/**
 * Gemini `generateContent` request bodies ↔ the neutral request. The model is part of the URL
 * (`/v1beta/models/{model}:generateContent`), not the body: parseRequest leaves `model` empty for
 * the caller to fill in from the route, and renderRequest never writes it. Likewise streaming is
 * chosen by the method (`streamGenerateContent`), so `stream` is false here and the caller sets it.
 * @see https://ai.google.dev/api/generate-content#method:-models.generatecontent
 */
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json.js';
import type {
  NeutralMessage,
  NeutralRequest,
  NeutralTextPart,
  Translated,
  TranslationWarning,
} from '../neutral.js';
import { parseModelParts, parseUserParts, renderModelParts, renderUserParts } from './parts.js';
import { parseGenerationConfig, parseTools, renderGenerationConfig, renderTools } from './request-config.js';
import { isGemini3OrLater } from './shared.js';

const handledFields = new Set([
  'contents',
  'systemInstruction',
  'tools',
  'toolConfig',
  'generationConfig',
  'model',
]);

/**
 * Gemini 3 rejects replayed function calls without a thought signature; history that came from
 * another dialect has none, so Google's documented sentinel stands in for it.
 * @see https://ai.google.dev/gemini-api/docs/thought-signatures
 */
const signatureSentinel = 'skip_thought_signature_validator';

function parseContents(contents: unknown, warnings: TranslationWarning[]): NeutralMessage[] {
  const messages: NeutralMessage[] = [];
  let callCount = 0;
  // Calls without ids are answered by name, in order: a queue of open call ids per tool name.
  const openCalls = new Map<string, string[]>();
  const callId = (name: string, own: string | undefined): string => {
    const id = own ?? `call_${callCount++}`;
    openCalls.set(name, [...(openCalls.get(name) ?? []), id]);
    return id;
  };
  const resultId = (name: string, id: string | undefined): string => {
    const queue = openCalls.get(name) ?? [];
    if (id !== undefined) {
      openCalls.set(
        name,
        queue.filter((open) => open !== id),
      );
      return id;
    }
    return queue.shift() ?? `call_${callCount++}`;
  };
  for (const content of Array.isArray(contents) ? contents : []) {
    if (!isRecord(content)) continue;
    if (content.role === 'model') {
      messages.push({ role: 'assistant', content: parseModelParts(content.parts, callId, warnings) });
    } else {
      messages.push({ role: 'user', content: parseUserParts(content.parts, resultId, warnings) });
    }
  }
  return messages;
}

/** A Gemini request body as the neutral request (with `model` left empty: it is in the URL). */
export function parseRequest(body: unknown): Translated<NeutralRequest> {
  if (!isRecord(body)) throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  if (body.cachedContent !== undefined && body.cachedContent !== null) {
    throw new GatewayError(
      'invalid_request',
      'cachedContent refers to a context cache stored by Google and cannot be translated for another provider.',
    );
  }
  const warnings: TranslationWarning[] = [];
  for (const key of Object.keys(body)) {
    if (!handledFields.has(key) && body[key] !== undefined && body[key] !== null) {
      warnings.push({ kind: 'dropped', feature: key });
    }
  }
  const system: NeutralTextPart[] = [];
  if (isRecord(body.systemInstruction) && Array.isArray(body.systemInstruction.parts)) {
    for (const part of body.systemInstruction.parts) {
      if (isRecord(part) && typeof part.text === 'string') system.push({ type: 'text', text: part.text });
    }
  }
  const { tools, toolChoice } = parseTools(body.tools, body.toolConfig, warnings);
  const config = parseGenerationConfig(body.generationConfig, warnings);
  return {
    value: {
      model: '',
      system,
      messages: parseContents(body.contents, warnings),
      tools,
      toolChoice,
      parallelToolCalls: undefined,
      ...config,
      stream: false,
      user: undefined,
    },
    warnings,
  };
}

/** The neutral request as a Gemini body (no `model`: the caller puts it in the URL). */
export function renderRequest(request: NeutralRequest): Translated<Record<string, unknown>> {
  const warnings: TranslationWarning[] = [];
  const namesById = new Map<string, string>();
  const contents: Record<string, unknown>[] = [];
  const sentinel = isGemini3OrLater(request.model);
  let usedSentinel = false;
  for (const message of request.messages) {
    if (message.role === 'user') {
      const parts = renderUserParts(message.content, (id) => namesById.get(id), warnings);
      contents.push({ role: 'user', parts });
      continue;
    }
    for (const part of message.content) if (part.type === 'tool-call') namesById.set(part.id, part.name);
    const parts = renderModelParts(message.content, { includeIds: false }, warnings);
    const firstCall = parts.find((part) => part.functionCall !== undefined);
    if (sentinel && firstCall !== undefined && firstCall.thoughtSignature === undefined) {
      firstCall.thoughtSignature = signatureSentinel;
      usedSentinel = true;
    }
    contents.push({ role: 'model', parts });
  }
  if (usedSentinel) {
    warnings.push({
      kind: 'approximated',
      feature: 'thoughtSignature',
      detail: 'replayed calls carry the skip sentinel',
    });
  }
  const body: Record<string, unknown> = { contents };
  if (request.system.length > 0)
    body.systemInstruction = { parts: request.system.map((part) => ({ text: part.text })) };
  Object.assign(body, renderTools(request, warnings));
  const generationConfig = renderGenerationConfig(request, warnings);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  if (request.parallelToolCalls === false) warnings.push({ kind: 'dropped', feature: 'parallel_tool_calls' });
  if (request.user !== undefined) warnings.push({ kind: 'dropped', feature: 'user' });
  return { value: body, warnings };
}
