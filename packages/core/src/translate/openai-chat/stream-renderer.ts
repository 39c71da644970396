/**
 * Neutral stream events → OpenAI Chat Completions chunks (`data: <json>\n\n`, then
 * `data: [DONE]\n\n`).
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */
import type { NeutralStreamEvent, StreamRenderer } from '../neutral.js';
import { type Clock, finishReasonToOpenAi, renderUsage } from './shared.js';

export interface OpenAiChatStreamRendererOptions {
  /**
   * Render the final usage chunk (`choices: []`), as OpenAI does when the client sent
   * `stream_options.include_usage`. Default true; the gateway passes false when the client did
   * not ask, since strict clients may not expect a chunk without choices.
   */
  includeUsage?: boolean;
}

function frame(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export function createOpenAiChatStreamRenderer(
  clock: Clock,
  options: OpenAiChatStreamRendererOptions = {},
): StreamRenderer {
  const includeUsage = options.includeUsage ?? true;
  let id = '';
  let model = '';
  let created = 0;
  let started = false;
  let done = false;
  /** Neutral tool block index → the tool call's position in `tool_calls`. */
  const toolCalls = new Map<number, number>();

  function chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
    return frame({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
  }

  /** The role chunk opens every Chat Completions stream, even when `start` never came. */
  function ensureStarted(): string {
    if (started) return '';
    started = true;
    created = Math.floor(clock.now() / 1000);
    return chunk({ role: 'assistant', content: '' });
  }

  function render(event: NeutralStreamEvent): string {
    switch (event.type) {
      case 'start':
        id = event.id;
        model = event.model;
        return ensureStarted();
      case 'text-delta':
        return ensureStarted() + chunk({ content: event.delta });
      case 'reasoning-delta':
        // The field OpenAI-compatible servers use for visible reasoning; OpenAI SDKs pass it through.
        return ensureStarted() + chunk({ reasoning_content: event.delta });
      case 'tool-input-start': {
        const position = toolCalls.size;
        toolCalls.set(event.index, position);
        const call = {
          index: position,
          id: event.id,
          type: 'function',
          function: { name: event.name, arguments: '' },
        };
        return ensureStarted() + chunk({ tool_calls: [call] });
      }
      case 'tool-input-delta': {
        const position = toolCalls.get(event.index);
        if (position === undefined) return '';
        return (
          ensureStarted() + chunk({ tool_calls: [{ index: position, function: { arguments: event.delta } }] })
        );
      }
      case 'finish': {
        done = true;
        let text = ensureStarted() + chunk({}, finishReasonToOpenAi(event.finishReason));
        if (includeUsage) {
          text += frame({
            id,
            object: 'chat.completion.chunk',
            created,
            model,
            choices: [],
            usage: renderUsage(event.usage),
          });
        }
        return `${text}data: [DONE]\n\n`;
      }
      case 'error':
        // OpenAI reports a failure mid-stream as a chunk holding only `error`, then stops.
        done = true;
        return frame({ error: { message: event.message, type: event.errorType, param: null, code: null } });
      case 'keepalive':
        // An SSE comment: every SSE parser skips it, and it keeps proxies from closing a quiet stream.
        return ': keepalive\n\n';
      default:
        // Block boundaries and reasoning signatures have no Chat Completions form.
        return '';
    }
  }

  return {
    push: (event) => (done ? '' : render(event)),
    end: () => '',
  };
}
