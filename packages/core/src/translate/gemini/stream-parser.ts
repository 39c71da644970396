/**
 * Gemini `streamGenerateContent?alt=sse` chunks → neutral stream events. Every chunk is a whole
 * `GenerateContentResponse` holding the next parts; the last one carries `finishReason` and
 * `usageMetadata`. Function calls arrive whole, so each becomes a start, one delta with its full
 * JSON, and an end. A failure mid-stream arrives as a chunk holding only `error`.
 * @see https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 */

import { isRecord, stringOr } from '../../json.js';
import { emptyUsage, type Usage } from '../../usage.js';
import type { NeutralStreamEvent, StreamParser, WireEvent } from '../neutral.js';
import { finishReasonFromBlock, finishReasonFromGemini, generatedCallId, usageFromGemini } from './shared.js';

type Open = { kind: 'text' | 'reasoning'; index: number } | undefined;

/** Creates a parser for one Gemini stream (SSE `data:` payloads, or JSON-array elements). */
export function createGeminiStreamParser(): StreamParser {
  let nextIndex = 0;
  let started = false;
  let finished = false;
  let responseId = '';
  let calls = 0;
  let open: Open;
  let usage: Usage | undefined;

  const close = (): NeutralStreamEvent[] => {
    if (open === undefined) return [];
    const index = open.index;
    const kind = open.kind;
    open = undefined;
    return [kind === 'text' ? { type: 'text-end', index } : { type: 'reasoning-end', index }];
  };

  const ensure = (kind: 'text' | 'reasoning', events: NeutralStreamEvent[]): number => {
    if (open?.kind === kind) return open.index;
    events.push(...close());
    open = { kind, index: nextIndex++ };
    events.push(
      kind === 'text'
        ? { type: 'text-start', index: open.index }
        : { type: 'reasoning-start', index: open.index },
    );
    return open.index;
  };

  const part = (value: Record<string, unknown>, events: NeutralStreamEvent[]): void => {
    const signature = typeof value.thoughtSignature === 'string' ? value.thoughtSignature : undefined;
    if (value.thought === true) {
      const index = ensure('reasoning', events);
      const text = stringOr(value.text, '');
      if (text !== '') events.push({ type: 'reasoning-delta', index, delta: text });
      if (signature !== undefined) events.push({ type: 'reasoning-signature', index, signature });
      return;
    }
    // A signature on an answer part or a call travels as its own empty reasoning block.
    if (signature !== undefined) {
      events.push(...close());
      const index = ensure('reasoning', events);
      events.push({ type: 'reasoning-signature', index, signature }, ...close());
    }
    if (typeof value.text === 'string' && value.text !== '') {
      const index = ensure('text', events);
      events.push({ type: 'text-delta', index, delta: value.text });
    } else if (isRecord(value.functionCall)) {
      events.push(...close());
      const call = value.functionCall;
      const id = typeof call.id === 'string' ? call.id : generatedCallId(responseId, calls);
      calls++;
      const index = nextIndex++;
      const args = isRecord(call.args) ? call.args : {};
      events.push(
        { type: 'tool-input-start', index, id, name: stringOr(call.name, '') },
        { type: 'tool-input-delta', index, delta: JSON.stringify(args) },
        { type: 'tool-input-end', index },
      );
    }
  };

  const chunk = (data: Record<string, unknown>): NeutralStreamEvent[] => {
    const events: NeutralStreamEvent[] = [];
    if (isRecord(data.error)) {
      const error = data.error;
      return [
        {
          type: 'error',
          errorType: stringOr(error.status, 'INTERNAL'),
          message: stringOr(error.message, ''),
        },
      ];
    }
    if (!started) {
      started = true;
      responseId = stringOr(data.responseId, '');
      events.push({
        type: 'start',
        id: responseId,
        model: stringOr(data.modelVersion, ''),
        usage: undefined,
      });
    }
    // Every chunk repeats the usage so far; the last one is the total.
    usage = usageFromGemini(data.usageMetadata) ?? usage;
    const candidate =
      Array.isArray(data.candidates) && isRecord(data.candidates[0]) ? data.candidates[0] : {};
    const parts =
      isRecord(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
    for (const value of parts) if (isRecord(value)) part(value, events);
    const blockReason = isRecord(data.promptFeedback) ? data.promptFeedback.blockReason : undefined;
    if (typeof candidate.finishReason === 'string' || typeof blockReason === 'string') {
      finished = true;
      const finishReason =
        typeof candidate.finishReason === 'string'
          ? finishReasonFromGemini(candidate.finishReason, calls > 0)
          : finishReasonFromBlock(String(blockReason));
      events.push(...close(), { type: 'finish', finishReason, usage: usage ?? emptyUsage() });
    }
    return events;
  };

  return {
    push(event: WireEvent): NeutralStreamEvent[] {
      if (finished || event.data.trim() === '') return [];
      try {
        const data: unknown = JSON.parse(event.data);
        return isRecord(data) ? chunk(data) : [];
      } catch {
        return [];
      }
    },
    end(): NeutralStreamEvent[] {
      // A stream cut before its finishing chunk closes what it opened; no finish is invented.
      return close();
    },
  };
}
