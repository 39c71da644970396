/**
 * Reading providers' own usage reports into the neutral {@link Usage}. Upstream JSON is untrusted
 * input: every field is checked, anything missing or odd counts as absent, and nothing throws.
 */

import { isRecord } from './json.js';
import type { Usage } from './usage.js';

/** A usable token count, or undefined: negative, fractional, NaN and non-numbers are all "not reported". */
function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
}

/**
 * OpenAI chat completions `usage` (plain responses and the last stream chunk alike).
 * `prompt_tokens` already includes cached tokens and `completion_tokens` already includes
 * reasoning tokens, so the parts are carved out of the totals. OpenAI reports no cache writes,
 * but some OpenAI-compatible providers add `prompt_tokens_details.cache_write_tokens`.
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 */
export function usageFromOpenAiChat(usage: unknown): Usage | undefined {
  if (!isRecord(usage)) return undefined;
  const prompt = count(usage.prompt_tokens);
  const completion = count(usage.completion_tokens);
  if (prompt === undefined && completion === undefined) return undefined;
  const promptDetails = isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const completionDetails = isRecord(usage.completion_tokens_details) ? usage.completion_tokens_details : {};

  const inputTotal = prompt ?? 0;
  // Clamp the parts so a provider that over-reports a detail can never produce negative tokens.
  const cacheRead = Math.min(count(promptDetails.cached_tokens) ?? 0, inputTotal);
  const cacheWrite = Math.min(count(promptDetails.cache_write_tokens) ?? 0, inputTotal - cacheRead);
  const outputTotal = completion ?? 0;
  const reasoning = Math.min(count(completionDetails.reasoning_tokens) ?? 0, outputTotal);
  return {
    input: { total: inputTotal, noCache: inputTotal - cacheRead - cacheWrite, cacheRead, cacheWrite },
    output: { total: outputTotal, text: outputTotal - reasoning, reasoning },
  };
}

/**
 * Anthropic Messages `usage`. Unlike OpenAI, `input_tokens` counts only the uncached part; the
 * total is the sum of the three input fields. Anthropic does not report thinking tokens
 * separately, so all output counts as text.
 *
 * In a stream, `message_start` carries the input side and `message_delta` carries cumulative
 * counts that may repeat, update or omit the input fields. Pass the usage known so far as
 * `previous`: fields the new object carries win, the rest are kept.
 * @see https://docs.anthropic.com/en/api/messages#response-usage
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 */
export function usageFromAnthropic(usage: unknown, previous?: Usage): Usage | undefined {
  if (!isRecord(usage)) return previous;
  const noCache = count(usage.input_tokens);
  const cacheRead = count(usage.cache_read_input_tokens);
  const cacheWrite = count(usage.cache_creation_input_tokens);
  const output = count(usage.output_tokens);
  if ([noCache, cacheRead, cacheWrite, output].every((value) => value === undefined)) return previous;

  const input = {
    noCache: noCache ?? previous?.input.noCache ?? 0,
    cacheRead: cacheRead ?? previous?.input.cacheRead ?? 0,
    cacheWrite: cacheWrite ?? previous?.input.cacheWrite ?? 0,
  };
  const outputTotal = output ?? previous?.output.total ?? 0;
  return {
    input: { total: input.noCache + input.cacheRead + input.cacheWrite, ...input },
    output: { total: outputTotal, text: outputTotal, reasoning: 0 },
  };
}

/** Usage of a non-streamed OpenAI chat completion body. */
export function usageFromOpenAiChatBody(body: unknown): Usage | undefined {
  return isRecord(body) ? usageFromOpenAiChat(body.usage) : undefined;
}

/** Usage of a non-streamed Anthropic Messages body. */
export function usageFromAnthropicBody(body: unknown): Usage | undefined {
  return isRecord(body) ? usageFromAnthropic(body.usage) : undefined;
}

/**
 * The model a response body says answered (OpenAI and Anthropic both use top-level `model`).
 * It can differ from the one requested (aliases, dated snapshots), and it is what gets priced.
 */
export function modelFromBody(body: unknown): string | undefined {
  return isRecord(body) && typeof body.model === 'string' && body.model !== '' ? body.model : undefined;
}
