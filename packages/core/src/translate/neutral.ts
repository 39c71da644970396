import type { Usage } from '../usage.js';

/**
 * The dialect-neutral model every translator goes through: dialect → neutral → dialect, never
 * pair by pair. Five dialects then need five codecs, not twenty translators.
 * Shaped after the Vercel AI SDK's language-model spec: content as typed parts, streams as typed
 * start/delta/end events, finish reason and usage kept both unified and raw.
 */

/** A piece of user- or tool-supplied content. */
export type NeutralTextPart = { type: 'text'; text: string };

export type NeutralImagePart = {
  type: 'image';
  /** Inline bytes (base64, no data: prefix) or a URL the provider fetches itself. */
  source: { kind: 'base64'; mediaType: string; data: string } | { kind: 'url'; url: string };
};

/** A call the model asked for. `input` is the parsed JSON arguments object. */
export type NeutralToolCallPart = { type: 'tool-call'; id: string; name: string; input: unknown };

/** The result of a tool call, sent back by the client. */
export type NeutralToolResultPart = {
  type: 'tool-result';
  toolCallId: string;
  /** Some dialects (Gemini) address results by tool name, not id. */
  toolName: string | undefined;
  content: (NeutralTextPart | NeutralImagePart)[];
  isError: boolean;
};

/**
 * Model reasoning ("thinking"). `signature` (Anthropic) or `encrypted` (redacted thinking,
 * OpenAI encrypted reasoning) are opaque tokens that only the same provider family accepts back.
 */
export type NeutralReasoningPart = {
  type: 'reasoning';
  text: string;
  signature?: string | undefined;
  encrypted?: string | undefined;
};

export type NeutralUserPart = NeutralTextPart | NeutralImagePart | NeutralToolResultPart;
export type NeutralAssistantPart = NeutralTextPart | NeutralToolCallPart | NeutralReasoningPart;

export type NeutralMessage =
  | { role: 'user'; content: NeutralUserPart[] }
  | { role: 'assistant'; content: NeutralAssistantPart[] };

export interface NeutralTool {
  name: string;
  description: string | undefined;
  /** JSON Schema of the arguments object. */
  inputSchema: Record<string, unknown>;
}

export type NeutralToolChoice = 'auto' | 'none' | 'required' | { type: 'tool'; name: string };

export interface NeutralRequest {
  model: string;
  /** System instructions, in order (Anthropic system blocks, OpenAI system/developer messages). */
  system: NeutralTextPart[];
  /** Conversation turns; tool results travel in user turns, as in Anthropic's shape. */
  messages: NeutralMessage[];
  tools: NeutralTool[];
  toolChoice: NeutralToolChoice | undefined;
  /** Whether the model may call several tools in one turn; undefined leaves the provider's default. */
  parallelToolCalls: boolean | undefined;
  maxOutputTokens: number | undefined;
  temperature: number | undefined;
  topP: number | undefined;
  topK: number | undefined;
  stopSequences: string[];
  stream: boolean;
  /** Extended thinking / reasoning effort, where the dialect has it. */
  reasoning:
    | { budgetTokens: number | undefined; effort: 'minimal' | 'low' | 'medium' | 'high' | undefined }
    | undefined;
  /** Structured output: plain JSON, or JSON matching `schema`. */
  responseFormat:
    | { type: 'json'; schema: Record<string, unknown> | undefined; name: string | undefined }
    | undefined;
  /** An end-user id for the provider's abuse tracking (OpenAI `user`, Anthropic `metadata.user_id`). */
  user: string | undefined;
}

/** Why the model stopped: one unified value, and the provider's own word for it. */
export interface NeutralFinishReason {
  unified: 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error' | 'other';
  raw: string | undefined;
}

export interface NeutralResponse {
  id: string;
  model: string;
  content: NeutralAssistantPart[];
  finishReason: NeutralFinishReason;
  usage: Usage;
}

/**
 * One event of a streamed answer. Blocks are numbered by `index` in the order they open;
 * a block's start, deltas and end share its index.
 */
export type NeutralStreamEvent =
  | { type: 'start'; id: string; model: string; usage: Usage | undefined }
  | { type: 'text-start'; index: number }
  | { type: 'text-delta'; index: number; delta: string }
  | { type: 'text-end'; index: number }
  /**
   * `encrypted` carries an opaque reasoning block that arrives whole (Anthropic
   * `redacted_thinking`); such a block has no deltas. Optional: added for the Anthropic codec.
   */
  | { type: 'reasoning-start'; index: number; encrypted?: string | undefined }
  | { type: 'reasoning-delta'; index: number; delta: string }
  | { type: 'reasoning-signature'; index: number; signature: string }
  | { type: 'reasoning-end'; index: number }
  | { type: 'tool-input-start'; index: number; id: string; name: string }
  /** A piece of the arguments' JSON text, as the model produces it. */
  | { type: 'tool-input-delta'; index: number; delta: string }
  | { type: 'tool-input-end'; index: number }
  | { type: 'finish'; finishReason: NeutralFinishReason; usage: Usage }
  /** The provider reported an error inside the stream (e.g. overloaded). */
  | { type: 'error'; errorType: string; message: string }
  /** Nothing happened, but the connection is alive (Anthropic `ping`). */
  | { type: 'keepalive' };

/** Something a translation could not carry exactly; echoed to the caller in a response header. */
export interface TranslationWarning {
  kind: 'dropped' | 'approximated' | 'clamped';
  /** The request or response feature, e.g. `top_k`, `cache_control`, `anthropic-beta:…`. */
  feature: string;
  detail?: string;
}

/** A translator's result: the value and everything it had to bend to produce it. */
export interface Translated<T> {
  value: T;
  warnings: TranslationWarning[];
}

/** One parsed event of a provider's stream, framing already removed (SSE or AWS event-stream). */
export interface WireEvent {
  /** SSE `event:` name or the AWS `:event-type` header, when the framing has one. */
  event: string | undefined;
  /** The event's payload text, usually JSON. */
  data: string;
}

/** Turns a provider's wire events into neutral events, keeping whatever state the dialect needs. */
export interface StreamParser {
  push(event: WireEvent): NeutralStreamEvent[];
  /** The stream ended; returns any events still owed (e.g. closing open blocks). */
  end(): NeutralStreamEvent[];
}

/** Turns neutral events into the client's wire format (SSE text, or Gemini's JSON array). */
export interface StreamRenderer {
  push(event: NeutralStreamEvent): string;
  end(): string;
}

/**
 * Everything one dialect needs to take part in translation. Client side: parseRequest,
 * renderResponse, createStreamRenderer. Provider side: renderRequest, parseResponse,
 * createStreamParser. All pure and synchronous.
 */
export interface DialectCodec {
  parseRequest(body: unknown): Translated<NeutralRequest>;
  renderRequest(request: NeutralRequest): Translated<Record<string, unknown>>;
  parseResponse(body: unknown): Translated<NeutralResponse>;
  renderResponse(response: NeutralResponse): Translated<Record<string, unknown>>;
  createStreamParser(): StreamParser;
  createStreamRenderer(): StreamRenderer;
}
