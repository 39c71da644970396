import type { ServerResponse } from 'node:http';

/** Token usage a scenario reports. Each number is written verbatim into the provider's own field. */
export interface MockUsage {
  /** OpenAI `prompt_tokens` (which by OpenAI's definition includes cached tokens) / Anthropic `input_tokens` (which excludes cache reads and writes). */
  inputTokens: number;
  /** OpenAI `completion_tokens` / Anthropic `output_tokens`. */
  outputTokens: number;
  /** OpenAI `prompt_tokens_details.cached_tokens` / Anthropic `cache_read_input_tokens`. */
  cacheReadTokens?: number;
  /** Anthropic `cache_creation_input_tokens` (OpenAI has no such field). */
  cacheWriteTokens?: number;
  /** OpenAI `completion_tokens_details.reasoning_tokens` (Anthropic has no such field). */
  reasoningTokens?: number;
}

export interface MockScenario {
  /** Error status to answer with (body in the provider's own error shape unless `body` given). */
  status?: number;
  /** Extra response headers (e.g. retry-after, x-ratelimit-*, anthropic-ratelimit-*). */
  headers?: Record<string, string>;
  /** Override JSON body (sent as is, with `status` or 200, never streamed). */
  body?: unknown;
  /** Assistant text to answer with. With `toolCall` it is sent as text before the tool call. */
  text?: string;
  /** Answer with a tool call instead of text. */
  toolCall?: { name: string; arguments: Record<string, unknown> };
  /** Anthropic only: a `thinking` content block (with signature) placed before the text/tool_use block. */
  thinking?: string;
  /** Usage to report. */
  usage?: MockUsage;
  /** Streaming: destroy the socket after this many SSE events (simulates upstream dying). */
  cutAfterEvents?: number;
  /**
   * Streaming: after this many SSE events send the provider's in-stream error and end the response
   * cleanly (Anthropic `event: error`, OpenAI `data: {"error":{...}}` with no [DONE]).
   */
  streamError?: { afterEvents: number; type?: string; message?: string };
  /** Streaming: delay between events. */
  eventDelayMs?: number;
  /** Delay before sending headers. */
  firstByteDelayMs?: number;
}

export type JsonBody = { [key: string]: unknown };

export const DEFAULT_TEXT = 'Hello from the mock upstream.';

let seq = 0;
/** A short unique-ish id suffix, cheap to make. */
export function nextId(): string {
  seq = (seq + 1) % 1e9;
  return `mock${Date.now().toString(36)}${seq.toString(36).padStart(6, '0')}`;
}

export function defaultUsage(body: JsonBody): MockUsage {
  const messages = body.messages;
  return { inputTokens: 12 + (Array.isArray(messages) ? messages.length : 0), outputTokens: 7 };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True once the client went away (or we destroyed the socket). */
export function isGone(res: ServerResponse): boolean {
  return res.destroyed || res.socket === null || res.socket.destroyed;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
  extra?: Record<string, string>,
): void {
  if (isGone(res)) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...headers,
    ...extra,
  });
  res.end(payload);
}

const noop = (): void => {};

/**
 * Writes already-framed SSE events. Without delay or cut the whole stream goes out in a single write
 * (fast path for the benchmark); otherwise event by event, stopping when the client aborts.
 */
export async function sendSse(
  res: ServerResponse,
  frames: string[],
  scenario: MockScenario,
  headers: Record<string, string>,
): Promise<void> {
  if (isGone(res)) return;
  res.on('error', noop);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...headers,
    ...scenario.headers,
  });
  const cut = scenario.cutAfterEvents;
  const delay = scenario.eventDelayMs ?? 0;
  if (cut === undefined && delay <= 0) {
    res.end(frames.join(''));
    return;
  }
  const n = cut === undefined ? frames.length : Math.min(cut, frames.length);
  for (let i = 0; i < n; i++) {
    if (delay > 0 && i > 0) await sleep(delay);
    if (isGone(res)) return;
    const frame = frames[i] as string;
    if (cut !== undefined && i === n - 1) {
      // Let the last event reach the socket before killing it.
      await new Promise<void>((resolve) => res.write(frame, () => resolve()));
    } else {
      res.write(frame);
    }
  }
  if (cut !== undefined) {
    res.socket?.destroy();
    res.destroy();
    return;
  }
  res.end();
}

/** Splits text into word-sized pieces (each word keeps its trailing whitespace). */
export function splitText(text: string): string[] {
  const pieces = text.match(/\S+\s*|\s+/g);
  return pieces ?? [];
}

/** Splits a JSON string into about `parts` pieces, never inside a surrogate pair. */
export function splitJson(json: string, parts = 3): string[] {
  const chars = Array.from(json);
  const size = Math.max(1, Math.ceil(chars.length / parts));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}
