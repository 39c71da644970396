/**
 * Anthropic Messages SSE events → neutral stream events.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 */

import { isRecord, optionalString } from '../../json.js';
import { emptyUsage, type Usage } from '../../usage.js';
import { usageFromAnthropic } from '../../usage-extract.js';
import type { NeutralFinishReason, NeutralStreamEvent, StreamParser, WireEvent } from '../neutral.js';
import { finishReasonFromStopReason } from './shared.js';

type BlockKind = 'text' | 'reasoning' | 'tool-input';

interface OpenBlock {
  kind: BlockKind;
  /** The neutral index; differs from Anthropic's when server-tool blocks are skipped. */
  index: number;
}

export function createAnthropicStreamParser(): StreamParser {
  /** Anthropic index → the open block; `null` for blocks that are skipped (server tools). */
  const open = new Map<number, OpenBlock | null>();
  let nextIndex = 0;
  let usage: Usage | undefined;
  let finishReason: NeutralFinishReason = { unified: 'other', raw: undefined };
  let sawMessageDelta = false;
  let finished = false;

  function closeAll(): NeutralStreamEvent[] {
    const events: NeutralStreamEvent[] = [];
    for (const block of open.values())
      if (block) events.push({ type: `${block.kind}-end`, index: block.index });
    open.clear();
    return events;
  }

  function finish(): NeutralStreamEvent[] {
    finished = true;
    return [...closeAll(), { type: 'finish', finishReason, usage: usage ?? emptyUsage() }];
  }

  function startBlock(wireIndex: number, block: Record<string, unknown>): NeutralStreamEvent[] {
    const index = nextIndex;
    switch (block.type) {
      case 'text': {
        open.set(wireIndex, { kind: 'text', index });
        nextIndex++;
        const text = optionalString(block.text) ?? '';
        return text === ''
          ? [{ type: 'text-start', index }]
          : [
              { type: 'text-start', index },
              { type: 'text-delta', index, delta: text },
            ];
      }
      case 'thinking': {
        open.set(wireIndex, { kind: 'reasoning', index });
        nextIndex++;
        const text = optionalString(block.thinking) ?? '';
        const events: NeutralStreamEvent[] = [{ type: 'reasoning-start', index }];
        if (text !== '') events.push({ type: 'reasoning-delta', index, delta: text });
        return events;
      }
      case 'redacted_thinking':
        open.set(wireIndex, { kind: 'reasoning', index });
        nextIndex++;
        return [{ type: 'reasoning-start', index, encrypted: optionalString(block.data) ?? '' }];
      case 'tool_use':
        open.set(wireIndex, { kind: 'tool-input', index });
        nextIndex++;
        return [
          {
            type: 'tool-input-start',
            index,
            id: optionalString(block.id) ?? '',
            name: optionalString(block.name) ?? '',
          },
        ];
      default:
        // Server tool blocks (web search and the like) run inside Anthropic and have no neutral form.
        open.set(wireIndex, null);
        return [];
    }
  }

  function delta(wireIndex: number, payload: Record<string, unknown>): NeutralStreamEvent[] {
    const block = open.get(wireIndex);
    if (!block) return [];
    const { index } = block;
    switch (payload.type) {
      case 'text_delta':
        return [{ type: 'text-delta', index, delta: optionalString(payload.text) ?? '' }];
      case 'thinking_delta':
        return [{ type: 'reasoning-delta', index, delta: optionalString(payload.thinking) ?? '' }];
      case 'signature_delta':
        return [{ type: 'reasoning-signature', index, signature: optionalString(payload.signature) ?? '' }];
      case 'input_json_delta': {
        // The first input_json_delta is often empty; an empty delta carries nothing.
        const text = optionalString(payload.partial_json) ?? '';
        return text === '' ? [] : [{ type: 'tool-input-delta', index, delta: text }];
      }
      default:
        return [];
    }
  }

  function push(wire: WireEvent): NeutralStreamEvent[] {
    if (finished) return [];
    let data: unknown;
    try {
      data = JSON.parse(wire.data);
    } catch {
      return [];
    }
    if (!isRecord(data)) return [];
    const wireIndex = typeof data.index === 'number' ? data.index : -1;
    switch (data.type ?? wire.event) {
      case 'message_start': {
        const message = isRecord(data.message) ? data.message : {};
        usage = usageFromAnthropic(message.usage);
        return [
          {
            type: 'start',
            id: optionalString(message.id) ?? '',
            model: optionalString(message.model) ?? '',
            usage,
          },
        ];
      }
      case 'content_block_start':
        return isRecord(data.content_block) ? startBlock(wireIndex, data.content_block) : [];
      case 'content_block_delta':
        return isRecord(data.delta) ? delta(wireIndex, data.delta) : [];
      case 'content_block_stop': {
        const block = open.get(wireIndex);
        open.delete(wireIndex);
        return block ? [{ type: `${block.kind}-end`, index: block.index }] : [];
      }
      case 'message_delta': {
        sawMessageDelta = true;
        const messageDelta = isRecord(data.delta) ? data.delta : {};
        if (messageDelta.stop_reason !== undefined && messageDelta.stop_reason !== null) {
          finishReason = finishReasonFromStopReason(messageDelta.stop_reason);
        }
        usage = usageFromAnthropic(data.usage, usage);
        return [];
      }
      case 'message_stop':
        return finish();
      case 'ping':
        return [{ type: 'keepalive' }];
      case 'error': {
        finished = true;
        const error = isRecord(data.error) ? data.error : {};
        return [
          ...closeAll(),
          {
            type: 'error',
            errorType: optionalString(error.type) ?? 'api_error',
            message: optionalString(error.message) ?? '',
          },
        ];
      }
      default:
        return [];
    }
  }

  return {
    push,
    // A stream cut after message_delta is complete in substance; one cut earlier gets no finish,
    // so the gateway can tell the client the answer broke off.
    end: () => (finished ? [] : sawMessageDelta ? finish() : closeAll()),
  };
}
