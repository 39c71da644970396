/**
 * OpenAI Responses stream events → neutral stream events. Responses streams are typed SSE events
 * (`response.output_text.delta`, …); every output item is announced by `output_item.added` and
 * closed by `output_item.done`, and the stream ends with `response.completed`, `.incomplete` or
 * `.failed`, which carry the whole response including usage.
 * @see https://platform.openai.com/docs/api-reference/responses-streaming
 */

import { isRecord, stringOr } from '../../json.js';
import { emptyUsage } from '../../usage.js';
import type { NeutralStreamEvent, StreamParser, WireEvent } from '../neutral.js';
import { finishReasonFromResponse, usageFromResponses } from './shared.js';

type OpenBlock =
  | { kind: 'text'; index: number }
  | { kind: 'reasoning'; index: number; summaryIndex: number }
  | { kind: 'tool'; index: number; sawDelta: boolean };

/** Creates a parser for one Responses stream. */
export function createResponsesStreamParser(): StreamParser {
  let nextIndex = 0;
  let started = false;
  let finished = false;
  let calledTools = false;
  // Keyed by `output_index`: a reasoning item may open a block lazily, a message one per part.
  const open = new Map<number, OpenBlock>();

  const close = (outputIndex: number): NeutralStreamEvent[] => {
    const block = open.get(outputIndex);
    if (block === undefined) return [];
    open.delete(outputIndex);
    if (block.kind === 'text') return [{ type: 'text-end', index: block.index }];
    if (block.kind === 'reasoning') return [{ type: 'reasoning-end', index: block.index }];
    return [{ type: 'tool-input-end', index: block.index }];
  };
  const closeAll = (): NeutralStreamEvent[] => [...open.keys()].sort((a, b) => a - b).flatMap(close);

  const start = (response: unknown): NeutralStreamEvent[] => {
    if (started) return [];
    started = true;
    const fields = isRecord(response) ? response : {};
    return [
      { type: 'start', id: stringOr(fields.id, ''), model: stringOr(fields.model, ''), usage: undefined },
    ];
  };

  const reasoningDelta = (outputIndex: number, summaryIndex: number, delta: string): NeutralStreamEvent[] => {
    const events: NeutralStreamEvent[] = [];
    let block = open.get(outputIndex);
    if (block === undefined) {
      block = { kind: 'reasoning', index: nextIndex++, summaryIndex };
      open.set(outputIndex, block);
      events.push({ type: 'reasoning-start', index: block.index });
    } else if (block.kind === 'reasoning' && block.summaryIndex !== summaryIndex) {
      // Summary parts are paragraphs of one reasoning item: keep them apart in the one block.
      block.summaryIndex = summaryIndex;
      events.push({ type: 'reasoning-delta', index: block.index, delta: '\n\n' });
    }
    if (delta !== '') events.push({ type: 'reasoning-delta', index: block.index, delta });
    return events;
  };

  const handle = (type: string, data: Record<string, unknown>): NeutralStreamEvent[] => {
    const outputIndex = typeof data.output_index === 'number' ? data.output_index : -1;
    const item = isRecord(data.item) ? data.item : {};
    switch (type) {
      case 'response.created':
      case 'response.in_progress':
        return start(data.response);
      case 'response.output_item.added':
        if (item.type !== 'function_call') return [];
        calledTools = true;
        open.set(outputIndex, { kind: 'tool', index: nextIndex, sawDelta: false });
        return [
          {
            type: 'tool-input-start',
            index: nextIndex++,
            id: stringOr(item.call_id, ''),
            name: stringOr(item.name, ''),
          },
        ];
      case 'response.content_part.added': {
        const part = isRecord(data.part) ? data.part : {};
        if (part.type !== 'output_text' && part.type !== 'refusal') return [];
        const events = close(outputIndex);
        open.set(outputIndex, { kind: 'text', index: nextIndex });
        return [...events, { type: 'text-start', index: nextIndex++ }];
      }
      case 'response.output_text.delta':
      case 'response.refusal.delta': {
        const block = open.get(outputIndex);
        if (block?.kind !== 'text') return [];
        return [{ type: 'text-delta', index: block.index, delta: stringOr(data.delta, '') }];
      }
      case 'response.content_part.done':
        return open.get(outputIndex)?.kind === 'text' ? close(outputIndex) : [];
      case 'response.function_call_arguments.delta': {
        const block = open.get(outputIndex);
        if (block?.kind !== 'tool') return [];
        block.sawDelta = true;
        return [{ type: 'tool-input-delta', index: block.index, delta: stringOr(data.delta, '') }];
      }
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta': {
        const summaryIndex = typeof data.summary_index === 'number' ? data.summary_index : 0;
        return reasoningDelta(outputIndex, summaryIndex, stringOr(data.delta, ''));
      }
      case 'response.output_item.done': {
        const block = open.get(outputIndex);
        // Some servers send a function call's arguments only in the finished item.
        if (
          block?.kind === 'tool' &&
          !block.sawDelta &&
          typeof item.arguments === 'string' &&
          item.arguments !== ''
        ) {
          return [
            { type: 'tool-input-delta', index: block.index, delta: item.arguments },
            ...close(outputIndex),
          ];
        }
        return close(outputIndex);
      }
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        return finish(data.response);
      case 'error':
        return [
          { type: 'error', errorType: stringOr(data.code, 'error'), message: stringOr(data.message, '') },
        ];
      default:
        return [];
    }
  };

  const finish = (response: unknown): NeutralStreamEvent[] => {
    finished = true;
    const fields = isRecord(response) ? response : {};
    const events = [...start(fields), ...closeAll()];
    if (fields.status === 'failed') {
      const error = isRecord(fields.error) ? fields.error : {};
      events.push({
        type: 'error',
        errorType: stringOr(error.code, 'server_error'),
        message: stringOr(error.message, ''),
      });
    }
    const incomplete = isRecord(fields.incomplete_details) ? fields.incomplete_details.reason : undefined;
    events.push({
      type: 'finish',
      finishReason: finishReasonFromResponse(fields.status, incomplete, calledTools),
      usage: usageFromResponses(fields.usage) ?? emptyUsage(),
    });
    return events;
  };

  return {
    push(event: WireEvent): NeutralStreamEvent[] {
      if (finished || event.data.trim() === '' || event.data.trim() === '[DONE]') return [];
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        return [];
      }
      if (!isRecord(data)) return [];
      // The payload's own `type` is authoritative; the SSE `event:` line only repeats it.
      const type = stringOr(data.type, event.event ?? '');
      return handle(type, data);
    },
    end(): NeutralStreamEvent[] {
      // A stream cut before its terminal event still closes what it opened; no finish is invented.
      return closeAll();
    },
  };
}
