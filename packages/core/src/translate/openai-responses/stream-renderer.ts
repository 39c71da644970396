/**
 * Neutral stream events → an OpenAI Responses SSE stream (`event: <type>\ndata: {json}\n\n`, each
 * payload with a rising `sequence_number`). Codex CLI needs `response.created` first, every item
 * wrapped in `output_item.added` / `output_item.done` (function calls carrying `call_id`, `name`
 * and the full `arguments` in `done`), and a terminal `response.completed` with usage.
 * @see https://platform.openai.com/docs/api-reference/responses-streaming
 */
import type { Usage } from '../../usage.js';
import type { NeutralFinishReason, NeutralStreamEvent, StreamRenderer } from '../neutral.js';
import { functionCallItem, messageItem, nowSeconds, reasoningItem, responseObject } from './response.js';
import { itemId, renderUsage, statusFromFinishReason } from './shared.js';

type OpenItem =
  | { kind: 'text'; outputIndex: number; id: string; text: string }
  | { kind: 'reasoning'; outputIndex: number; id: string; text: string }
  | { kind: 'tool'; outputIndex: number; id: string; callId: string; name: string; args: string };

/** Creates a renderer for one Responses stream. */
export function createResponsesStreamRenderer(): StreamRenderer {
  let sequence = 0;
  let responseId = 'resp_gatehouse';
  let model = '';
  let createdAt = 0;
  let started = false;
  let terminated = false;
  const output: Record<string, unknown>[] = [];
  const open = new Map<number, OpenItem>();

  const sse = (type: string, payload: Record<string, unknown>): string =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...payload })}\n\n`;

  const envelope = (
    status: string,
    usage: Usage | null,
    extra: Partial<Parameters<typeof responseObject>[0]> = {},
  ) =>
    responseObject({
      id: responseId,
      createdAt,
      model,
      status,
      incompleteDetails: null,
      error: null,
      output: status === 'in_progress' ? [] : output,
      usage: usage === null ? null : renderUsage(usage),
      ...extra,
    });

  const start = (id: string | undefined, startModel: string | undefined): string => {
    if (started) return '';
    started = true;
    if (id !== undefined && id !== '') responseId = id;
    model = startModel ?? '';
    createdAt = nowSeconds();
    const response = envelope('in_progress', null);
    return sse('response.created', { response }) + sse('response.in_progress', { response });
  };

  const openItem = (item: OpenItem, added: Record<string, unknown>): string => {
    open.set(item.outputIndex, item);
    return sse('response.output_item.added', { output_index: item.outputIndex, item: added });
  };

  const closeItem = (index: number): string => {
    const item = open.get(index);
    if (item === undefined) return '';
    open.delete(index);
    const at = { item_id: item.id, output_index: item.outputIndex };
    let text = '';
    let done: Record<string, unknown>;
    if (item.kind === 'text') {
      const part = { type: 'output_text', text: item.text, annotations: [] };
      text += sse('response.output_text.done', { ...at, content_index: 0, text: item.text });
      text += sse('response.content_part.done', { ...at, content_index: 0, part });
      done = messageItem(item.id, item.text);
    } else if (item.kind === 'reasoning') {
      const part = { type: 'summary_text', text: item.text };
      text += sse('response.reasoning_summary_text.done', { ...at, summary_index: 0, text: item.text });
      text += sse('response.reasoning_summary_part.done', { ...at, summary_index: 0, part });
      done = reasoningItem(item.id, item.text, undefined);
    } else {
      text += sse('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.args });
      done = functionCallItem(item.id, item.callId, item.name, item.args);
    }
    output[item.outputIndex] = done;
    return text + sse('response.output_item.done', { output_index: item.outputIndex, item: done });
  };
  const closeAll = (): string =>
    [...open.keys()]
      .sort((a, b) => a - b)
      .map(closeItem)
      .join('');

  // Neutral block indices map to output indices: both count items in the order they open.
  const outputIndexOf = new Map<number, number>();
  const begin = (blockIndex: number): number => {
    const outputIndex = output.length;
    output.push({});
    outputIndexOf.set(blockIndex, outputIndex);
    return outputIndex;
  };
  const current = (blockIndex: number): OpenItem | undefined => {
    const outputIndex = outputIndexOf.get(blockIndex);
    return outputIndex === undefined ? undefined : open.get(outputIndex);
  };

  const finish = (finishReason: NeutralFinishReason, usage: Usage): string => {
    terminated = true;
    const closing = closeAll();
    const { status, incompleteDetails } = statusFromFinishReason(finishReason);
    const error =
      status === 'failed'
        ? { code: 'server_error', message: 'The model failed to finish its answer.' }
        : null;
    const response = envelope(status, usage, { incompleteDetails, error });
    return closing + sse(`response.${status}`, { response });
  };

  const handle = (event: NeutralStreamEvent): string => {
    switch (event.type) {
      case 'start':
        return start(event.id, event.model);
      case 'text-start': {
        const outputIndex = begin(event.index);
        const id = itemId('msg', responseId, outputIndex);
        const added = { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
        const part = { type: 'output_text', text: '', annotations: [] };
        return (
          openItem({ kind: 'text', outputIndex, id, text: '' }, added) +
          sse('response.content_part.added', {
            item_id: id,
            output_index: outputIndex,
            content_index: 0,
            part,
          })
        );
      }
      case 'reasoning-start': {
        const outputIndex = begin(event.index);
        const id = itemId('rs', responseId, outputIndex);
        const part = { type: 'summary_text', text: '' };
        return (
          openItem({ kind: 'reasoning', outputIndex, id, text: '' }, { id, type: 'reasoning', summary: [] }) +
          sse('response.reasoning_summary_part.added', {
            item_id: id,
            output_index: outputIndex,
            summary_index: 0,
            part,
          })
        );
      }
      case 'tool-input-start': {
        const outputIndex = begin(event.index);
        const id = itemId('fc', responseId, outputIndex);
        const added = {
          id,
          type: 'function_call',
          status: 'in_progress',
          call_id: event.id,
          name: event.name,
          arguments: '',
        };
        return openItem(
          { kind: 'tool', outputIndex, id, callId: event.id, name: event.name, args: '' },
          added,
        );
      }
      case 'text-delta':
      case 'reasoning-delta':
      case 'tool-input-delta': {
        const item = current(event.index);
        if (item === undefined) return '';
        const at = { item_id: item.id, output_index: item.outputIndex };
        if (item.kind === 'tool') {
          item.args += event.delta;
          return sse('response.function_call_arguments.delta', { ...at, delta: event.delta });
        }
        item.text += event.delta;
        if (item.kind === 'text')
          return sse('response.output_text.delta', {
            ...at,
            content_index: 0,
            delta: event.delta,
            logprobs: [],
          });
        return sse('response.reasoning_summary_text.delta', { ...at, summary_index: 0, delta: event.delta });
      }
      case 'text-end':
      case 'reasoning-end':
      case 'tool-input-end': {
        const outputIndex = outputIndexOf.get(event.index);
        return outputIndex === undefined ? '' : closeItem(outputIndex);
      }
      case 'finish':
        return finish(event.finishReason, event.usage);
      case 'error': {
        terminated = true;
        const closing = closeAll();
        const response = envelope('failed', null, {
          error: { code: event.errorType, message: event.message },
        });
        return closing + sse('response.failed', { response });
      }
      // Responses has no signature field and no keep-alive event.
      case 'reasoning-signature':
      case 'keepalive':
        return '';
    }
  };

  return {
    push(event: NeutralStreamEvent): string {
      if (terminated) return '';
      // A stream must open with response.created even if the neutral `start` went missing.
      const opening = event.type === 'start' || event.type === 'keepalive' ? '' : start(undefined, undefined);
      return opening + handle(event);
    },
    end(): string {
      if (terminated || !started) return '';
      // Without a terminal event Codex reports "stream closed before response.completed" and retries.
      terminated = true;
      const closing = closeAll();
      const error = {
        code: 'server_error',
        message: 'The upstream stream ended before the answer was complete.',
      };
      return closing + sse('response.failed', { response: envelope('failed', null, { error }) });
    },
  };
}
