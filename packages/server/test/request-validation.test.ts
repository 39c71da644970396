import { connect } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from './mock-upstream/mock-upstream.js';
import { type QuickStart, quickStart, startTestGatehouse, type TestGatehouse } from './support/harness.js';

let mock: MockUpstream;
let server: TestGatehouse;
let setup: QuickStart;
/** A second server whose body limit is small enough to reach in a test. */
let small: TestGatehouse;
let smallSetup: QuickStart;

beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestGatehouse();
  setup = await quickStart(server, mock);
  small = await startTestGatehouse({ GATEHOUSE_MAX_BODY_BYTES: '2048' });
  smallSetup = await quickStart(small, mock);
});
afterAll(async () => {
  await server?.close();
  await small?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

type Dialect = 'openai' | 'anthropic';
const pathOf: Record<Dialect, string> = { openai: '/api/v1/chat/completions', anthropic: '/api/v1/messages' };

function post(
  dialect: Dialect,
  body: string,
  options: { target?: TestGatehouse; key?: string; path?: string } = {},
) {
  const target = options.target ?? server;
  const key = options.key ?? setup.key;
  const headers: Record<string, string> =
    dialect === 'openai'
      ? { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
      : { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
  return fetch(`${target.url}${options.path ?? pathOf[dialect]}`, { method: 'POST', headers, body });
}

/** Reads an error response and checks it has exactly the shape the dialect's SDKs parse. */
async function dialectError(response: Response, dialect: Dialect) {
  const requestId = response.headers.get('x-gatehouse-request-id');
  expect(requestId).toMatch(/^req_/);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  // biome-ignore lint/suspicious/noExplicitAny: the shape is what this helper checks.
  const body = (await response.json()) as any;
  if (dialect === 'openai') {
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(body.error.message).toEqual(expect.any(String));
    return {
      status: response.status,
      type: body.error.type,
      code: body.error.code,
      message: body.error.message,
    };
  }
  expect(body).toEqual({
    type: 'error',
    error: { type: expect.any(String), message: expect.any(String) },
    request_id: requestId,
  });
  return { status: response.status, type: body.error.type, code: undefined, message: body.error.message };
}

const good = {
  openai: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
  anthropic: { model: 'claude-sonnet-4-6', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] },
};

describe.each(['openai', 'anthropic'] as const)('bad request bodies in the %s dialect', (dialect) => {
  const badRequestType = 'invalid_request_error';

  it('refuses malformed JSON with 400 before anything reaches the provider', async () => {
    const error = await dialectError(await post(dialect, '{"model": "gpt-4o-mini", "messages": ['), dialect);
    expect(error).toMatchObject({ status: 400, type: badRequestType });
    if (dialect === 'openai') expect(error.code).toBe('malformed_json');
    expect(error.message).toMatch(/JSON/);
    expect(mock.requests).toHaveLength(0);
  });

  it.each([
    ['an empty body', ''],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['a bare string', '"hello"'],
  ])('refuses %s with 400', async (_label, body) => {
    const error = await dialectError(await post(dialect, body), dialect);
    expect(error).toMatchObject({ status: 400, type: badRequestType });
    expect(mock.requests).toHaveLength(0);
  });

  it.each([
    ['missing', {}],
    ['empty', { model: '' }],
    ['not a string', { model: 42 }],
  ])('refuses a %s model with 400 naming the field', async (_label, override) => {
    const { model: _model, ...rest } = good[dialect];
    const error = await dialectError(await post(dialect, JSON.stringify({ ...rest, ...override })), dialect);
    expect(error).toMatchObject({ status: 400, type: badRequestType });
    expect(error.message).toContain('model');
    expect(mock.requests).toHaveLength(0);
  });

  it.each([['"true"'], ['1'], ['null']])('refuses stream: %s with 400 naming the field', async (stream) => {
    const body = `${JSON.stringify(good[dialect]).slice(0, -1)},"stream":${stream}}`;
    const error = await dialectError(await post(dialect, body), dialect);
    expect(error).toMatchObject({ status: 400, type: badRequestType });
    expect(error.message).toContain('stream');
    expect(mock.requests).toHaveLength(0);
  });

  it('refuses a body over GATEHOUSE_MAX_BODY_BYTES with 413', async () => {
    const body = JSON.stringify({ ...good[dialect], metadata: { padding: 'x'.repeat(4096) } });
    const error = await dialectError(
      await post(dialect, body, { target: small, key: smallSetup.key }),
      dialect,
    );
    expect(error.status).toBe(413);
    expect(error.type).toBe(dialect === 'openai' ? 'invalid_request_error' : 'request_too_large');
    if (dialect === 'openai') expect(error.code).toBe('body_too_large');
    expect(error.message).toContain('2048');
    expect(mock.requests).toHaveLength(0);
  });

  it('refuses a streamed (chunked) body over the limit with 413 too', async () => {
    const chunk = new TextEncoder().encode(`{"model":"x","padding":"${'y'.repeat(1000)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Bounded: 8 KiB in all, four times the limit, then the stream ends.
        if (sent >= 8) return controller.close();
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${small.url}${pathOf[dialect]}`, {
      method: 'POST',
      headers:
        dialect === 'openai'
          ? { authorization: `Bearer ${smallSetup.key}`, 'content-type': 'application/json' }
          : {
              'x-api-key': smallSetup.key,
              'anthropic-version': '2023-06-01',
              'content-type': 'application/json',
            },
      body,
      duplex: 'half',
    } as RequestInit);
    const error = await dialectError(response, dialect);
    expect(error.status).toBe(413);
    expect(mock.requests).toHaveLength(0);
  });

  it('still serves a body just under the limit', async () => {
    const base = JSON.stringify({ ...good[dialect], metadata: { padding: '' } });
    const body = base.replace('"padding":""', `"padding":"${'z'.repeat(2000 - base.length)}"`);
    expect(Buffer.byteLength(body)).toBe(2000);
    const response = await post(dialect, body, { target: small, key: smallSetup.key });
    expect(response.status).toBe(200);
    expect(mock.requests).toHaveLength(1);
  });

  it('refuses an unauthenticated malformed request as 401: nothing is parsed for an unknown caller', async () => {
    const response = await fetch(`${server.url}${pathOf[dialect]}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    const error = await dialectError(response, dialect);
    expect(error.status).toBe(401);
  });
});

describe('routes and models the gateway does not serve', () => {
  it('answers an unknown model API route with 404 in the caller dialect', async () => {
    const asOpenAi = await fetch(`${server.url}/api/v1/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${setup.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', prompt: 'hi' }),
    });
    expect(asOpenAi.status).toBe(404);
    expect(await dialectError(asOpenAi, 'openai')).toMatchObject({
      type: 'invalid_request_error',
      code: 'route_not_found',
    });

    const asAnthropic = await fetch(`${server.url}/v1/messages/batches`, {
      method: 'POST',
      headers: { 'x-api-key': setup.key, 'anthropic-version': '2023-06-01' },
      body: '{}',
    });
    expect(asAnthropic.status).toBe(404);
    expect(await dialectError(asAnthropic, 'anthropic')).toMatchObject({ type: 'not_found_error' });

    const asGoogle = await fetch(`${server.url}/api/v1beta/models/gemini-unknown:embedText`, {
      method: 'POST',
      headers: { 'x-goog-api-key': setup.key },
      body: '{}',
    });
    expect(asGoogle.status).toBe(404);
    expect(await asGoogle.json()).toEqual({
      error: { code: 404, message: expect.any(String), status: 'NOT_FOUND' },
    });
    expect(mock.requests).toHaveLength(0);
  });

  it('answers a model no provider in the policy serves with 404 model_not_found', async () => {
    const openAiError = await dialectError(
      await post('openai', JSON.stringify({ ...good.openai, model: 'gpt-imaginary-9' })),
      'openai',
    );
    expect(openAiError).toMatchObject({
      status: 404,
      type: 'invalid_request_error',
      code: 'model_not_found',
    });
    expect(openAiError.message).toContain('gpt-imaginary-9');

    const anthropicError = await dialectError(
      await post('anthropic', JSON.stringify({ ...good.anthropic, model: 'claude-imaginary-9' })),
      'anthropic',
    );
    expect(anthropicError).toMatchObject({ status: 404, type: 'not_found_error' });
    expect(anthropicError.message).toContain('claude-imaginary-9');

    const client = new OpenAI({ apiKey: setup.key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    const thrown = await client.chat.completions
      .create({ model: 'gpt-imaginary-9', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(thrown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((thrown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    expect(mock.requests).toHaveLength(0);
  });
});

/** Writes `raw` on a fresh socket, then destroys it; resolves once it is closed (or after 2 s). */
function writeAndHangUp(raw: string, waitMs = 0): Promise<void> {
  const { port, hostname } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const timer = setTimeout(() => socket.destroy(), 2_000);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('connect', () => {
      socket.write(raw, () => {
        setTimeout(() => socket.destroy(), waitMs);
      });
    });
  });
}

describe('a burst of bad input', () => {
  it('leaves the server healthy and serving after 50 assorted bad requests', async () => {
    const partialHead = [
      'POST /api/v1/chat/completions HTTP/1.1',
      `Host: ${new URL(server.url).host}`,
      `Authorization: Bearer ${setup.key}`,
      'Content-Type: application/json',
      'Content-Length: 500',
      '',
      '{"model":"gpt-4o-mini","messages":[{"role":"us',
    ].join('\r\n');
    const badRequests: Array<() => Promise<unknown>> = [
      () => post('openai', '{"model":'),
      () => post('anthropic', '{"model":'),
      () => post('openai', JSON.stringify({ messages: [] })),
      () => post('anthropic', JSON.stringify({ ...good.anthropic, stream: 'yes' })),
      () => post('openai', JSON.stringify(good.openai), { key: 'gth_not-a-real-key' }),
      () => post('openai', '\u0000\u0001\u0002'),
      () => post('openai', JSON.stringify({ ...good.openai, model: 'gpt-imaginary-9' })),
      () => post('openai', 'x'.repeat(4096), { target: small, key: smallSetup.key }),
      () => fetch(`${server.url}/api/v1/chat/completions`, { method: 'GET' }),
      () => writeAndHangUp(partialHead),
      () => writeAndHangUp('POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Le'),
      () => writeAndHangUp('GARBAGE\r\n\r\n', 50),
    ];
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, index) =>
        (badRequests[index % badRequests.length] as () => Promise<unknown>)(),
      ),
    );
    // Every fetch got an answer (a status, not a dropped connection), and none was a 5xx.
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('fulfilled');
      if (outcome.status === 'fulfilled' && outcome.value instanceof Response) {
        expect(outcome.value.status).toBeGreaterThanOrEqual(400);
        expect(outcome.value.status).toBeLessThan(500);
        await outcome.value.arrayBuffer();
      }
    }
    expect(mock.requests).toHaveLength(0);

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const response = await post('openai', JSON.stringify(good.openai));
    expect(response.status).toBe(200);
    const completion = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    expect(completion.choices[0]?.message.content).toBe('Hello from the mock upstream.');
    expect(mock.requests).toHaveLength(1);
  });
});
