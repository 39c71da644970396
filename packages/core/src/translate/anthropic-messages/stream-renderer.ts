/**
 * Neutral stream events → Anthropic Messages SSE, framed exactly as Anthropic frames it
 * (`event: <type>\ndata: <json>\n\n`).
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
import type { Usage } from '../../usage.js';
import type { NeutralStreamEvent, StreamRenderer } from '../neutral.js';
import { renderUsage, stopReasonFromFinishReason } from './shared.js';

function frame(type: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
}

/**
 * Anthropic streams one content block at a time. Neutral blocks normally arrive that way too;
 * if a block opens while another is still open, the open one is closed first and any later
 * delta for it is left out (Anthropic clients cannot reopen a block).
 */
export function createAnthropicStreamRenderer(): StreamRenderer {
  let started = false;
  let done = false;
  let nextIndex = 0;
  /** The open Anthropic block: its index and the neutral index it renders. */
  let current: { neutral: number; wire: number } | undefined;
  /** What message_start said, so message_delta can repeat input usage discovered later. */
  let startUsage: Usage | undefined;

  function ensureStarted(id = '', model = '', usage?: Usage): string {
    if (started) return '';
    started = true;
    startUsage = usage;
    const message = {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: renderUsage(usage),
    };
    return frame('message_start', { message });
  }

  function open(neutral: number, contentBlock: Record<string, unknown>): string {
    const text = close();
    current = { neutral, wire: nextIndex++ };
    return `${text}${frame('content_block_start', { index: current.wire, content_block: contentBlock })}`;
  }

  function close(): string {
    if (!current) return '';
    const text = frame('content_block_stop', { index: current.wire });
    current = undefined;
    return text;
  }

  function delta(neutral: number, payload: Record<string, unknown>): string {
    if (current?.neutral !== neutral) return '';
    return frame('content_block_delta', { index: current.wire, delta: payload });
  }

  function render(event: NeutralStreamEvent): string {
    if (event.type === 'start') return ensureStarted(event.id, event.model, event.usage);
    // A keep-alive before anything else is still a valid ping: Anthropic sends ping early too.
    if (event.type === 'keepalive') return frame('ping', {});
    const prefix = event.type === 'error' ? '' : ensureStarted();
    switch (event.type) {
      case 'text-start':
        return prefix + open(event.index, { type: 'text', text: '' });
      case 'reasoning-start':
        return (
          prefix +
          open(
            event.index,
            event.encrypted === undefined
              ? { type: 'thinking', thinking: '', signature: '' }
              : { type: 'redacted_thinking', data: event.encrypted },
          )
        );
      case 'tool-input-start':
        return prefix + open(event.index, { type: 'tool_use', id: event.id, name: event.name, input: {} });
      case 'text-delta':
        return prefix + delta(event.index, { type: 'text_delta', text: event.delta });
      case 'reasoning-delta':
        return prefix + delta(event.index, { type: 'thinking_delta', thinking: event.delta });
      case 'reasoning-signature':
        return prefix + delta(event.index, { type: 'signature_delta', signature: event.signature });
      case 'tool-input-delta':
        return prefix + delta(event.index, { type: 'input_json_delta', partial_json: event.delta });
      case 'text-end':
      case 'reasoning-end':
      case 'tool-input-end':
        return prefix + (current?.neutral === event.index ? close() : '');
      case 'finish': {
        done = true;
        // Input usage may only be known at the end (OpenAI reports it last); Anthropic's SDKs
        // take the input fields of message_delta when present.
        const usage =
          event.usage.input.total === 0 && startUsage
            ? { ...event.usage, input: startUsage.input }
            : event.usage;
        const messageDelta = frame('message_delta', {
          delta: { stop_reason: stopReasonFromFinishReason(event.finishReason), stop_sequence: null },
          usage: renderUsage(usage),
        });
        return `${prefix}${close()}${messageDelta}${frame('message_stop', {})}`;
      }
      case 'error':
        done = true;
        return frame('error', { error: { type: event.errorType, message: event.message } });
    }
  }

  return {
    push: (event) => (done ? '' : render(event)),
    end: () => '',
  };
}
