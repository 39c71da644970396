/**
 * Mock of AWS Bedrock Runtime: Converse, ConverseStream, InvokeModel and
 * InvokeModelWithResponseStream for Claude, with real AWS event-stream binary frames and a real
 * SigV4 check (the request is re-signed with the mock's secret and the signatures compared).
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_Operations_Amazon_Bedrock_Runtime.html
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { anthropicMessage, anthropicStreamEvents } from './anthropic.js';
import {
  DEFAULT_TEXT,
  defaultUsage,
  isGone,
  type JsonBody,
  type MockScenario,
  nextId,
  sendJson,
  sleep,
  splitJson,
  splitText,
} from './shared.js';

/** The AWS access key pair the mock accepts. */
export const MOCK_AWS_ACCESS_KEY_ID = 'AKIAMOCKUPSTREAM0001';
export const MOCK_AWS_SECRET_ACCESS_KEY = 'mock/secret/access/key/0123456789abcdef';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** Exception names per status, as `x-amzn-errortype` carries them. */
const ERRORS: Record<number, [type: string, message: string]> = {
  400: ['ValidationException', 'Malformed input request, please reformat your input and try again.'],
  403: ['AccessDeniedException', "You don't have access to the model with the specified model ID."],
  404: [
    'ResourceNotFoundException',
    'Could not resolve the foundation model from the provided model identifier.',
  ],
  408: ['ModelTimeoutException', 'Model has timed out in processing the request.'],
  424: ['ModelErrorException', 'The model returned an error.'],
  429: ['ThrottlingException', 'Too many requests, please wait before trying again.'],
  500: ['InternalServerException', 'The server encountered an internal error.'],
  503: ['ServiceUnavailableException', 'Bedrock is unable to process your request.'],
};

export function bedrockError(
  res: ServerResponse,
  status: number,
  extra?: Record<string, string>,
  message?: string,
): void {
  const [type, defaultMessage] =
    ERRORS[status] ??
    (status >= 500 ? ['InternalServerException', 'Internal error'] : ['ValidationException', 'Bad request']);
  sendJson(
    res,
    status,
    { message: message ?? defaultMessage },
    {
      'x-amzn-requestid': nextId(),
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    },
    extra,
  );
}

/**
 * Answers (403, as AWS does) unless the request carries a valid SigV4 signature for the mock's
 * key pair and service `bedrock`: the mock signs the same request again, at the same date, with
 * the same signed headers, and compares.
 */
async function signatureFails(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  raw: string,
): Promise<boolean> {
  const authorization = req.headers.authorization ?? '';
  const date = req.headers['x-amz-date'];
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(
      authorization,
    );
  if (!match || typeof date !== 'string') {
    bedrockError(res, 403, undefined, 'Missing Authentication Token');
    return true;
  }
  const [, accessKeyId, , region, service, signedHeaderNames] = match as unknown as string[];
  if (accessKeyId !== MOCK_AWS_ACCESS_KEY_ID || service !== 'bedrock') {
    bedrockError(res, 403, undefined, 'The security token included in the request is invalid.');
    return true;
  }
  const headers: Record<string, string> = {};
  for (const name of (signedHeaderNames as string).split(';'))
    headers[name] = String(req.headers[name] ?? '');
  const signer = new SignatureV4({
    service: 'bedrock',
    region: region as string,
    credentials: { accessKeyId, secretAccessKey: MOCK_AWS_SECRET_ACCESS_KEY },
    sha256: Sha256,
  });
  const signingDate = new Date(
    date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const expected = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: 'mock',
      path,
      query: {},
      headers,
      body: raw,
    },
    { signingDate, unsignableHeaders: new Set(), signableHeaders: new Set(Object.keys(headers)) },
  );
  if (expected.headers.authorization !== authorization) {
    bedrockError(
      res,
      403,
      undefined,
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
    return true;
  }
  return false;
}

function eventFrame(type: string, payload: JsonBody): Uint8Array {
  const headers: MessageHeaders = {
    ':event-type': { type: 'string', value: type },
    ':content-type': { type: 'string', value: 'application/json' },
    ':message-type': { type: 'string', value: 'event' },
  };
  // Bedrock pads every payload with a `p` field of varying length, against length side channels.
  return codec.encode({
    headers,
    body: fromUtf8(JSON.stringify({ ...payload, p: 'abcdefghijkl'.slice(0, (nextId().length % 12) + 1) })),
  });
}

function exceptionFrame(type: string, message: string): Uint8Array {
  const headers: MessageHeaders = {
    ':exception-type': { type: 'string', value: type },
    ':content-type': { type: 'string', value: 'application/json' },
    ':message-type': { type: 'string', value: 'exception' },
  };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify({ message })) });
}

/** Writes event-stream frames: all at once, or one by one with `eventDelayMs` / `cutAfterEvents`. */
async function sendFrames(res: ServerResponse, frames: Uint8Array[], scenario: MockScenario): Promise<void> {
  if (isGone(res)) return;
  res.on('error', () => {});
  res.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-requestid': nextId(),
    ...scenario.headers,
  });
  const cut = scenario.cutAfterEvents;
  const delay = scenario.eventDelayMs ?? 0;
  if (cut === undefined && delay <= 0) {
    res.end(Buffer.concat(frames));
    return;
  }
  const count = cut === undefined ? frames.length : Math.min(cut, frames.length);
  for (let index = 0; index < count; index++) {
    if (delay > 0 && index > 0) await sleep(delay);
    if (isGone(res)) return;
    await new Promise<void>((resolve) => res.write(frames[index] as Uint8Array, () => resolve()));
  }
  if (cut !== undefined) {
    res.socket?.destroy();
    res.destroy();
    return;
  }
  res.end();
}

function converseUsage(body: JsonBody, scenario: MockScenario) {
  const usage = scenario.usage ?? defaultUsage(body);
  return {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    totalTokens: usage.inputTokens + usage.outputTokens,
    ...(usage.cacheReadTokens ? { cacheReadInputTokens: usage.cacheReadTokens } : {}),
    ...(usage.cacheWriteTokens ? { cacheWriteInputTokens: usage.cacheWriteTokens } : {}),
  };
}

/** Converse / ConverseStream. @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html */
async function converse(
  res: ServerResponse,
  body: JsonBody,
  stream: boolean,
  scenario: MockScenario,
): Promise<void> {
  if (!Array.isArray(body.messages)) {
    bedrockError(res, 400, undefined, 'The model returned the following errors: messages: field required');
    return;
  }
  if ('model' in body || 'modelId' in body) {
    bedrockError(res, 400, undefined, 'Malformed input request: extraneous key [model] is not permitted');
    return;
  }
  const tool = scenario.toolCall;
  const text = tool ? scenario.text : (scenario.text ?? DEFAULT_TEXT);
  const stopReason = tool ? 'tool_use' : 'end_turn';
  const usage = converseUsage(body, scenario);
  const toolUseId = `tooluse_${nextId()}`;
  if (!stream) {
    const content: unknown[] = [];
    if (text !== undefined) content.push({ text });
    if (tool) content.push({ toolUse: { toolUseId, name: tool.name, input: tool.arguments } });
    sendJson(
      res,
      200,
      { output: { message: { role: 'assistant', content } }, stopReason, usage, metrics: { latencyMs: 42 } },
      { 'x-amzn-requestid': nextId() },
      scenario.headers,
    );
    return;
  }
  const frames = [eventFrame('messageStart', { role: 'assistant' })];
  let index = 0;
  if (text !== undefined) {
    for (const piece of splitText(text))
      frames.push(eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { text: piece } }));
    frames.push(eventFrame('contentBlockStop', { contentBlockIndex: index }));
    index++;
  }
  if (tool) {
    frames.push(
      eventFrame('contentBlockStart', {
        contentBlockIndex: index,
        start: { toolUse: { toolUseId, name: tool.name } },
      }),
    );
    for (const piece of splitJson(JSON.stringify(tool.arguments))) {
      frames.push(
        eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: piece } } }),
      );
    }
    frames.push(eventFrame('contentBlockStop', { contentBlockIndex: index }));
  }
  frames.push(
    eventFrame('messageStop', { stopReason }),
    eventFrame('metadata', { usage, metrics: { latencyMs: 42 } }),
  );
  const streamError = scenario.streamError;
  if (streamError) {
    frames.length = Math.min(streamError.afterEvents, frames.length);
    frames.push(
      exceptionFrame(
        streamError.type ?? 'throttlingException',
        streamError.message ?? 'Too many requests, please wait before trying again.',
      ),
    );
  }
  await sendFrames(res, frames, scenario);
}

/**
 * InvokeModel / InvokeModelWithResponseStream for Claude: Anthropic's Messages body without
 * `model` and `stream`, with `anthropic_version: bedrock-2023-05-31`; the stream wraps each
 * Anthropic event as base64 in a `chunk` frame.
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages-request-response.html
 */
async function invoke(
  res: ServerResponse,
  modelId: string,
  body: JsonBody,
  stream: boolean,
  scenario: MockScenario,
): Promise<void> {
  for (const key of ['model', 'stream']) {
    if (key in body) {
      bedrockError(
        res,
        400,
        undefined,
        `Malformed input request: #: extraneous key [${key}] is not permitted, please reformat your input and try again.`,
      );
      return;
    }
  }
  if (body.anthropic_version !== 'bedrock-2023-05-31') {
    bedrockError(
      res,
      400,
      undefined,
      'Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.',
    );
    return;
  }
  if (body.anthropic_beta !== undefined && !Array.isArray(body.anthropic_beta)) {
    bedrockError(res, 400, undefined, 'Malformed input request: #/anthropic_beta: expected type: JSONArray');
    return;
  }
  if (!Array.isArray(body.messages) || typeof body.max_tokens !== 'number') {
    bedrockError(
      res,
      400,
      undefined,
      'Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again.',
    );
    return;
  }
  // Bedrock names the model without its `anthropic.` prefix and version suffix.
  const model = modelId.replace(/^(?:[a-z]+\.)?anthropic\./, '').replace(/-v\d+(?::\d+)?$/, '');
  const withModel = { ...body, model };
  if (!stream) {
    sendJson(
      res,
      200,
      anthropicMessage(withModel, scenario),
      { 'x-amzn-requestid': nextId() },
      scenario.headers,
    );
    return;
  }
  const events = anthropicStreamEvents(withModel, scenario);
  const frames: Uint8Array[] = [];
  for (const event of events) {
    if (event.type === 'error') {
      frames.push(
        exceptionFrame('throttlingException', String((event.error as { message?: unknown }).message)),
      );
      continue;
    }
    const usage = scenario.usage ?? defaultUsage(body);
    const withMetrics =
      event.type === 'message_stop'
        ? {
            ...event,
            'amazon-bedrock-invocationMetrics': {
              inputTokenCount: usage.inputTokens,
              outputTokenCount: usage.outputTokens,
              invocationLatency: 42,
              firstByteLatency: 21,
            },
          }
        : event;
    frames.push(eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(withMetrics)).toString('base64') }));
  }
  await sendFrames(res, frames, scenario);
}

/**
 * `GET /foundation-models` (ListFoundationModels, on Bedrock's control plane), signed like a
 * model call: what Gatehouse's connection test asks.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListFoundationModels.html
 */
export async function bedrockFoundationModels(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  if (await signatureFails(req, res, path, '')) return;
  sendJson(
    res,
    200,
    {
      modelSummaries: [
        {
          modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0',
          modelId: 'amazon.nova-pro-v1:0',
          modelName: 'Nova Pro',
          providerName: 'Amazon',
          inputModalities: ['TEXT', 'IMAGE'],
          outputModalities: ['TEXT'],
          responseStreamingSupported: true,
        },
      ],
    },
    { 'x-amzn-requestid': nextId() },
  );
}

/** Routes `POST /model/{modelId}/{operation}`; answers every other path under /model/ with 404. */
export async function bedrockRoute(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  raw: string,
  next: () => MockScenario,
): Promise<void> {
  const match = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/.exec(
    path,
  );
  if (!match) {
    bedrockError(
      res,
      404,
      {
        'x-amzn-errortype':
          'UnknownOperationException:http://internal.amazon.com/coral/com.amazon.coral.service/',
      },
      'Unknown operation',
    );
    return;
  }
  if (await signatureFails(req, res, path, raw)) return;
  let body: JsonBody;
  try {
    body = JSON.parse(raw) as JsonBody;
  } catch {
    bedrockError(res, 400, undefined, 'Malformed input request, please reformat your input and try again.');
    return;
  }
  const modelId = decodeURIComponent(match[1] as string);
  const operation = match[2] as string;
  const scenario = next();
  if (scenario.firstByteDelayMs) await sleep(scenario.firstByteDelayMs);
  if (scenario.body !== undefined) {
    sendJson(res, scenario.status ?? 200, scenario.body, { 'x-amzn-requestid': nextId() }, scenario.headers);
    return;
  }
  if (scenario.status !== undefined && scenario.status >= 400) {
    bedrockError(res, scenario.status, scenario.headers);
    return;
  }
  const stream = operation.endsWith('stream');
  if (operation.startsWith('converse')) await converse(res, body, stream, scenario);
  else await invoke(res, modelId, body, stream, scenario);
}
