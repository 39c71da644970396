import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from './support/harness.js';

/**
 * Requests that fail before any route runs (oversized headers, a URL that does not decode, an
 * unknown model path, a body too large for a sign-in form) still answer in the shape the caller's
 * SDK parses: OpenAI's, Anthropic's, Google's, or OAuth's on the sign-in endpoints.
 */
let server: TestGatehouse;

beforeAll(async () => {
  server = await startTestGatehouse();
});
afterAll(async () => {
  await server?.close();
});

/** Sends raw bytes (fetch refuses oversized or malformed requests itself) and reads the answer. */
function rawRequest(text: string): Promise<{ status: number; body: string }> {
  const port = Number(new URL(server.url).port);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer: ${received}`));
    }, 5_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const [head = '', body = ''] = received.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
    socket.on('error', () => {});
    socket.write(text);
  });
}

describe('errors raised before a route runs', () => {
  it('oversized headers: 431 in the dialect the path belongs to', async () => {
    const big = `x-padding: ${'a'.repeat(20_000)}\r\n`;
    const openai = await rawRequest(
      `POST /api/v1/chat/completions HTTP/1.1\r\nHost: x\r\n${big}Connection: close\r\n\r\n`,
    );
    expect(openai.status).toBe(431);
    expect(JSON.parse(openai.body)).toMatchObject({ error: { type: 'invalid_request_error' } });
    const anthropic = await rawRequest(
      `POST /v1/messages HTTP/1.1\r\nHost: x\r\n${big}Connection: close\r\n\r\n`,
    );
    expect(anthropic.status).toBe(431);
    expect(JSON.parse(anthropic.body)).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
    const google = await rawRequest(
      `POST /api/v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: x\r\n${big}Connection: close\r\n\r\n`,
    );
    expect(google.status).toBe(431);
    expect(JSON.parse(google.body)).toMatchObject({ error: { code: 431, status: 'INVALID_ARGUMENT' } });
  });

  it('a URL that does not decode: 400 in the caller’s dialect', async () => {
    const answer = await rawRequest(
      'POST /api/v1/chat/completions%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { type: 'invalid_request_error' } });
    const google = await rawRequest(
      'POST /v1beta/models/%E0%A4%A:generateContent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(google.status).toBe(400);
    expect(JSON.parse(google.body)).toMatchObject({ error: { status: 'INVALID_ARGUMENT' } });
  });

  it('an unknown model path with any content type: 404 in the caller’s dialect', async () => {
    for (const contentType of ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) {
      const response = await fetch(`${server.url}/api/v1/no-such-thing`, {
        method: 'POST',
        headers: { 'content-type': contentType, 'anthropic-version': '2023-06-01' },
        body: 'x=1',
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    }
  });

  it('a sign-in form body that is too large: OAuth’s error shape', async () => {
    const response = await fetch(`${server.url}/api/auth/cli/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&refresh_token=${'a'.repeat(2 * 1024 * 1024)}`,
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe('invalid_request');
    expect(String(body.error_description)).toMatch(/too large/);
  });
});
