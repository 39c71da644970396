/**
 * OpenAI Chat Completions stream chunks → neutral stream events.
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */

import { isRecord, optionalString } from '../../json.js';
import { emptyUsage, type Usage } from '../../usage.js';
import { usageFromOpenAiChat } from '../../usage-extract.js';
import type { NeutralFinishReason, NeutralStreamEvent, StreamParser, WireEvent } from '../neutral.js';
import { finishReasonFromOpenAi } from './shared.js';

type Block =
  | { kind: 'text' | 'reasoning'; index: number }
  | { kind: 'tool-input'; index: number; toolIndex: number };

/**
 * Chat Completions deltas carry no block boundaries: text, reasoning and each tool call (by its
 * `index`) simply continue. Neutral blocks are opened when a kind starts and closed when another
 * one begins, so blocks come out one at a time, in order.
 *
 * The finish reason arrives before the usage chunk (`stream_options.include_usage`), so
 * `finish` waits for `[DONE]` or the end of the stream.
 */
export function createOpenAiChatStreamParser(): StreamParser {
  let started = false;
  let finished = false;
  let nextIndex = 0;
  let current: Block | undefined;
  /** Tool-call `index` → neutral block index, so late argument pieces still find their block. */
  const toolBlocks = new Map<number, number>();
  let finishReason: NeutralFinishReason | undefined;
  let usage: Usage | undefined;

  function close(): NeutralStreamEvent[] {
    if (!current) return [];
    const event: NeutralStreamEvent = { type: `${current.kind}-end`, index: current.index };
    current = undefined;
    return [event];
  }

  function openText(kind: 'text' | 'reasoning', delta: string, events: NeutralStreamEvent[]): void {
    if (current?.kind !== kind) {
      events.push(...close());
      current = { kind, index: nextIndex++ };
      events.push({ type: `${kind}-start`, index: current.index });
    }
    events.push({ type: `${kind}-delta`, index: current.index, delta });
  }

  function toolDelta(call: Record<string, unknown>, events: NeutralStreamEvent[]): void {
    const toolIndex = typeof call.index === 'number' ? call.index : 0;
    const fn = isRecord(call.function) ? call.function : {};
    const known = toolBlocks.get(toolIndex);
    let index: number;
    if (known === undefined) {
      events.push(...close());
      index = nextIndex++;
      toolBlocks.set(toolIndex, index);
      current = { kind: 'tool-input', index, toolIndex };
      events.push({
        type: 'tool-input-start',
        index,
        id: optionalString(call.id) ?? '',
        name: optionalString(fn.name) ?? '',
      });
    } else {
      index = known;
    }
    const args = optionalString(fn.arguments) ?? '';
    if (args !== '') events.push({ type: 'tool-input-delta', index, delta: args });
  }

  function finish(): NeutralStreamEvent[] {
    finished = true;
    return [
      ...close(),
      {
        type: 'finish',
        finishReason: finishReason ?? { unified: 'other', raw: undefined },
        usage: usage ?? emptyUsage(),
      },
    ];
  }

  function push(wire: WireEvent): NeutralStreamEvent[] {
    if (finished) return [];
    if (wire.data.trim() === '[DONE]') return started ? finish() : [];
    let chunk: unknown;
    try {
      chunk = JSON.parse(wire.data);
    } catch {
      return [];
    }
    if (!isRecord(chunk)) return [];
    const events: NeutralStreamEvent[] = [];
    if (isRecord(chunk.error)) {
      finished = true;
      const error = chunk.error;
      const errorType = optionalString(error.type) ?? optionalString(error.code) ?? 'api_error';
      return [...close(), { type: 'error', errorType, message: optionalString(error.message) ?? '' }];
    }
    if (!started) {
      started = true;
      events.push({
        type: 'start',
        id: optionalString(chunk.id) ?? '',
        model: optionalString(chunk.model) ?? '',
        usage: undefined,
      });
    }
    usage = usageFromOpenAiChat(chunk.usage) ?? usage;
    const choice = Array.isArray(chunk.choices) && isRecord(chunk.choices[0]) ? chunk.choices[0] : undefined;
    if (!choice) return events;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const reasoning = optionalString(delta.reasoning_content) ?? optionalString(delta.reasoning);
    if (reasoning) openText('reasoning', reasoning, events);
    const content = optionalString(delta.content);
    if (content) openText('text', content, events);
    if (Array.isArray(delta.tool_calls))
      for (const call of delta.tool_calls) if (isRecord(call)) toolDelta(call, events);
    if (typeof choice.finish_reason === 'string') {
      finishReason = finishReasonFromOpenAi(choice.finish_reason);
      events.push(...close());
    }
    return events;
  }

  return {
    push,
    // Some OpenAI-compatible servers never send [DONE]; a stream that gave a finish reason is complete.
    end: () => (finished ? [] : finishReason ? finish() : close()),
  };
}
