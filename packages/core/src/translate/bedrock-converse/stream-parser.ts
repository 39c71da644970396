/**
 * ConverseStream events → neutral stream events. The provider module removes the AWS
 * event-stream framing and hands over one {@link WireEvent} per message: `event` is the
 * `:event-type` header (or the exception type) and `data` the JSON payload.
 *
 * Two Bedrock habits shape the state kept here: text and reasoning blocks get no
 * `contentBlockStart` (the first delta opens them), and usage arrives in `metadata` *after*
 * `messageStop`, so `finish` waits for both — or for the end of the stream.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html
 */

import { isRecord, optionalString } from '../../json.js';
import type { Usage } from '../../usage.js';
import { emptyUsage } from '../../usage.js';
import type { NeutralFinishReason, NeutralStreamEvent, StreamParser, WireEvent } from '../neutral.js';
import { finishReasonFromBedrock, usageFromBedrock } from './wire.js';

type BlockKind = 'text' | 'reasoning' | 'tool-input';

interface OpenBlock {
  kind: BlockKind;
  /** The neutral index: blocks are numbered in the order they open. */
  index: number;
}

const eventTypes = new Set([
  'messageStart',
  'contentBlockStart',
  'contentBlockDelta',
  'contentBlockStop',
  'messageStop',
  'metadata',
]);

/**
 * The event name and payload. Without an event name, a payload wrapped in its union member
 * (`{"contentBlockDelta": {...}}`, as the SDKs show it) is unwrapped.
 */
function readEvent(event: WireEvent): { name: string; payload: Record<string, unknown> } | undefined {
  let payload: unknown;
  try {
    payload = JSON.parse(event.data);
  } catch {
    return undefined;
  }
  if (!isRecord(payload)) return undefined;
  if (event.event !== undefined) return { name: event.event, payload };
  const [name] = Object.keys(payload);
  const inner = name !== undefined ? payload[name] : undefined;
  return name !== undefined && isRecord(inner) ? { name, payload: inner } : undefined;
}

export function createStreamParser(): StreamParser {
  const open = new Map<number, OpenBlock>();
  let nextIndex = 0;
  let started = false;
  let finishReason: NeutralFinishReason | undefined;
  let usage: Usage | undefined;
  let sawError = false;
  let finished = false;

  /** `start` always comes first, even when Bedrock's first word is an exception. */
  function ensureStarted(events: NeutralStreamEvent[]): void {
    if (started) return;
    started = true;
    // The model id is in the request URL and there is no message id: the provider module knows both.
    events.push({ type: 'start', id: '', model: '', usage: undefined });
  }

  function closeBlock(bedrockIndex: number, events: NeutralStreamEvent[]): void {
    const block = open.get(bedrockIndex);
    if (block === undefined) return;
    open.delete(bedrockIndex);
    events.push({ type: `${block.kind}-end`, index: block.index });
  }

  function closeAll(events: NeutralStreamEvent[]): void {
    for (const bedrockIndex of [...open.keys()]) closeBlock(bedrockIndex, events);
  }

  /** The block at `bedrockIndex`, opened lazily (text and reasoning have no start event). */
  function blockFor(bedrockIndex: number, kind: BlockKind, events: NeutralStreamEvent[]): number {
    const block = open.get(bedrockIndex);
    if (block?.kind === kind) return block.index;
    closeBlock(bedrockIndex, events);
    const index = nextIndex++;
    open.set(bedrockIndex, { kind, index });
    if (kind === 'tool-input') events.push({ type: 'tool-input-start', index, id: '', name: '' });
    else events.push({ type: `${kind}-start`, index });
    return index;
  }

  function onDelta(bedrockIndex: number, delta: Record<string, unknown>, events: NeutralStreamEvent[]): void {
    if (typeof delta.text === 'string') {
      events.push({ type: 'text-delta', index: blockFor(bedrockIndex, 'text', events), delta: delta.text });
    } else if (isRecord(delta.toolUse) && typeof delta.toolUse.input === 'string') {
      const index = blockFor(bedrockIndex, 'tool-input', events);
      events.push({ type: 'tool-input-delta', index, delta: delta.toolUse.input });
    } else if (isRecord(delta.reasoningContent)) {
      const reasoning = delta.reasoningContent;
      if (typeof reasoning.text === 'string') {
        const index = blockFor(bedrockIndex, 'reasoning', events);
        events.push({ type: 'reasoning-delta', index, delta: reasoning.text });
      } else if (typeof reasoning.signature === 'string') {
        const index = blockFor(bedrockIndex, 'reasoning', events);
        events.push({ type: 'reasoning-signature', index, signature: reasoning.signature });
      }
      // `redactedContent` has no neutral stream event yet, so redacted reasoning is not carried.
    }
    // Citation, tool-result and image deltas have no neutral counterpart either.
  }

  function finish(events: NeutralStreamEvent[]): void {
    if (finished) return;
    finished = true;
    closeAll(events);
    const reason = finishReason ?? { unified: sawError ? 'error' : 'other', raw: undefined };
    events.push({ type: 'finish', finishReason: reason, usage: usage ?? emptyUsage() });
  }

  return {
    push(event: WireEvent): NeutralStreamEvent[] {
      const parsed = readEvent(event);
      if (parsed === undefined || finished) return [];
      const { name, payload } = parsed;
      const events: NeutralStreamEvent[] = [];
      if (!eventTypes.has(name)) {
        // Anything else on the stream is an exception event (throttlingException, …).
        if (!name.endsWith('Exception')) return [];
        ensureStarted(events);
        sawError = true;
        const message = optionalString(payload.message) ?? optionalString(payload.originalMessage) ?? name;
        events.push({ type: 'error', errorType: name, message });
        return events;
      }
      ensureStarted(events);
      const bedrockIndex = typeof payload.contentBlockIndex === 'number' ? payload.contentBlockIndex : 0;
      switch (name) {
        case 'contentBlockStart': {
          const toolUse = isRecord(payload.start) ? payload.start.toolUse : undefined;
          if (!isRecord(toolUse)) break;
          closeBlock(bedrockIndex, events);
          const index = nextIndex++;
          open.set(bedrockIndex, { kind: 'tool-input', index });
          const id = optionalString(toolUse.toolUseId) ?? '';
          events.push({ type: 'tool-input-start', index, id, name: optionalString(toolUse.name) ?? '' });
          break;
        }
        case 'contentBlockDelta':
          if (isRecord(payload.delta)) onDelta(bedrockIndex, payload.delta, events);
          break;
        case 'contentBlockStop':
          closeBlock(bedrockIndex, events);
          break;
        case 'messageStop':
          closeAll(events);
          finishReason = finishReasonFromBedrock(payload.stopReason);
          if (usage !== undefined) finish(events);
          break;
        case 'metadata':
          usage = usageFromBedrock(payload.usage) ?? emptyUsage();
          if (finishReason !== undefined) finish(events);
          break;
      }
      return events;
    },

    end(): NeutralStreamEvent[] {
      const events: NeutralStreamEvent[] = [];
      if (finished) return events;
      ensureStarted(events);
      finish(events);
      return events;
    },
  };
}
