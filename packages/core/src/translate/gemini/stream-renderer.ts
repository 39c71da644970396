/**
 * Neutral stream events → Gemini stream chunks. Each chunk is a `GenerateContentResponse` with
 * the new parts; the last adds `finishReason` and `usageMetadata`. Two framings share the chunks:
 * `alt=sse` (`data: {json}\r\n\r\n`, what Gemini CLI asks for) and, without `alt=sse`, one JSON
 * array written element by element (`[{…}`, `\n,\r\n{…}`, …, `\n]`).
 * @see https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 */
import type { NeutralStreamEvent, StreamRenderer } from '../neutral.js';
import { argsObject, renderFinishReason, renderUsageMetadata } from './shared.js';

/** Google's status and HTTP code for an error type another dialect reported mid-stream. */
function errorBody(errorType: string, message: string): Record<string, unknown> {
  if (errorType === 'overloaded_error') return { error: { code: 503, message, status: 'UNAVAILABLE' } };
  if (errorType === 'rate_limit_error')
    return { error: { code: 429, message, status: 'RESOURCE_EXHAUSTED' } };
  const status = /^[A-Z_]+$/.test(errorType) ? errorType : 'INTERNAL';
  return { error: { code: 500, message, status } };
}

/** Turns neutral events into chunk objects; the framing is the caller's business. */
function createChunkBuilder(): { push(event: NeutralStreamEvent): Record<string, unknown>[] } {
  let responseId = '';
  let model = '';
  let finished = false;
  // A signature from an empty reasoning block rides on the next part, where Gemini had it.
  let pendingSignature: string | undefined;
  const reasoningText = new Map<number, boolean>();
  const toolCalls = new Map<number, { id: string; name: string; args: string }>();

  const chunk = (parts: Record<string, unknown>[]): Record<string, unknown> => ({
    candidates: [{ content: { role: 'model', parts }, index: 0 }],
    modelVersion: model,
    responseId,
  });
  const signed = (part: Record<string, unknown>): Record<string, unknown> => {
    if (pendingSignature === undefined) return part;
    const withSignature = { ...part, thoughtSignature: pendingSignature };
    pendingSignature = undefined;
    return withSignature;
  };

  return {
    push(event: NeutralStreamEvent): Record<string, unknown>[] {
      if (finished) return [];
      switch (event.type) {
        case 'start':
          responseId = event.id;
          model = event.model;
          return [];
        case 'text-delta':
          return [chunk([signed({ text: event.delta })])];
        case 'reasoning-start':
          reasoningText.set(event.index, false);
          return [];
        case 'reasoning-delta':
          reasoningText.set(event.index, true);
          return [chunk([signed({ text: event.delta, thought: true })])];
        case 'reasoning-signature':
          // Thought text came first: the signature closes that thought. No text: it belongs to what follows.
          if (reasoningText.get(event.index) === true) {
            return [chunk([{ text: '', thought: true, thoughtSignature: event.signature }])];
          }
          pendingSignature = event.signature;
          return [];
        case 'tool-input-start':
          toolCalls.set(event.index, { id: event.id, name: event.name, args: '' });
          return [];
        case 'tool-input-delta': {
          const call = toolCalls.get(event.index);
          if (call !== undefined) call.args += event.delta;
          return [];
        }
        case 'tool-input-end': {
          // Gemini sends a call whole, so the arguments are held until the call is complete.
          const call = toolCalls.get(event.index);
          if (call === undefined) return [];
          toolCalls.delete(event.index);
          const args = argsObject(call.args === '' ? {} : call.args, []);
          return [chunk([signed({ functionCall: { id: call.id, name: call.name, args } })])];
        }
        case 'finish': {
          finished = true;
          const content = { role: 'model', parts: [signed({ text: '' })] };
          const finishReason = renderFinishReason(event.finishReason);
          return [
            {
              candidates: [{ content, finishReason, index: 0 }],
              usageMetadata: renderUsageMetadata(event.usage),
              modelVersion: model,
              responseId,
            },
          ];
        }
        case 'error':
          finished = true;
          return [errorBody(event.errorType, event.message)];
        default:
          return [];
      }
    },
  };
}

/** `alt=sse` framing: one `data:` line per chunk, CRLF-terminated as Google sends it. */
export function createGeminiStreamRenderer(): StreamRenderer {
  const builder = createChunkBuilder();
  return {
    push(event: NeutralStreamEvent): string {
      return builder
        .push(event)
        .map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`)
        .join('');
    },
    end(): string {
      return '';
    },
  };
}

/**
 * `streamGenerateContent` without `alt=sse`: one JSON array, written incrementally so a client
 * parsing it element by element sees each chunk as it comes.
 */
export function createGeminiJsonArrayRenderer(): StreamRenderer {
  const builder = createChunkBuilder();
  let written = 0;
  return {
    push(event: NeutralStreamEvent): string {
      return builder
        .push(event)
        .map((chunk) => `${written++ === 0 ? '[' : '\n,\r\n'}${JSON.stringify(chunk)}`)
        .join('');
    },
    end(): string {
      return written === 0 ? '[]' : '\n]';
    },
  };
}
