import { type ApiKind, GatewayError, isRecord } from '@gatehouse/core';

/** The few fields the gateway reads from a model call; the rest passes through untouched. */
export interface ParsedCall {
  /** The body's bytes as the client sent them, passed through when nothing needs rewriting. */
  body: Buffer;
  /** The parsed JSON body, for the rare cases the gateway must rewrite it. */
  json: Record<string, unknown>;
  model: string;
  stream: boolean;
  /** OpenAI chat only: whether the client itself asked for the usage chunk. */
  clientWantsStreamUsage: boolean;
}

/**
 * @param fromPath the model and streaming mode named by the URL, for APIs that put them there
 *   (Gemini's `models/{model}:streamGenerateContent`); the body's `model` is not required then.
 */
export function parseCallBody(
  api: ApiKind,
  body: Buffer | undefined,
  fromPath?: { model: string; stream: boolean },
): ParsedCall {
  if (body === undefined || body.length === 0) {
    throw new GatewayError('invalid_request', 'The request body is empty; a JSON object is required.');
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new GatewayError(
      'malformed_json',
      `The request body is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (!isRecord(json)) {
    throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  }
  const fields = json;
  if (fromPath !== undefined) {
    return {
      body,
      json: fields,
      model: fromPath.model,
      stream: fromPath.stream,
      clientWantsStreamUsage: false,
    };
  }
  if (typeof fields.model !== 'string' || fields.model.trim() === '') {
    throw new GatewayError('invalid_request', '`model` is required and must be a non-empty string.');
  }
  if (fields.stream !== undefined && typeof fields.stream !== 'boolean') {
    throw new GatewayError('invalid_request', '`stream` must be a boolean.');
  }
  const streamOptions = fields.stream_options;
  return {
    body,
    json: fields,
    model: fields.model,
    stream: fields.stream === true,
    clientWantsStreamUsage:
      api === 'openai-chat' && isRecord(streamOptions) && streamOptions.include_usage === true,
  };
}
