import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { callServer, jsonOf } from './server-call.js';
import { CliError, ExitCode } from './ui.js';

let server: Server | undefined;
afterEach(stop);

/** A loopback server answering every request with `answer`; returns its URL. */
async function serve(answer: (request: IncomingMessage, body: string, response: ServerResponse) => void) {
  const listening = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => answer(request, body, response));
  });
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
}

/** Closes the server, so its port refuses connections. */
async function stop(): Promise<void> {
  const listening = server;
  server = undefined;
  if (listening) await new Promise((resolve) => listening.close(resolve));
}

async function failureOf(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe('callServer', () => {
  it('sends the bearer and a form body, and parses the JSON answer', async () => {
    const url = await serve((request, body, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          authorization: request.headers.authorization,
          type: request.headers['content-type'],
          body,
        }),
      );
    });
    const answer = await callServer(url, { bearer: 'gth_x', form: { grant_type: 'refresh_token' } });
    expect(answer).toMatchObject({ status: 200, ok: true, isJson: true });
    expect(answer.body).toEqual({
      authorization: 'Bearer gth_x',
      type: 'application/x-www-form-urlencoded',
      body: 'grant_type=refresh_token',
    });
  });

  it('tells a non-JSON answer apart, and jsonOf turns it into exit code 5', async () => {
    const url = await serve((_request, _body, response) => response.end('<html>login</html>'));
    const answer = await callServer(url);
    expect(answer.isJson).toBe(false);
    const error = await failureOf(Promise.resolve().then(() => jsonOf(answer, 'Sign-in metadata')));
    expect(error.exitCode).toBe(ExitCode.serverUnavailable);
  });

  it('is "server unreachable" (exit code 5) when the connection is refused', async () => {
    const url = await serve(() => {});
    await stop();
    const error = await failureOf(callServer(`${url}/api/auth/cli/whoami`));
    expect(error.exitCode).toBe(ExitCode.serverUnavailable);
    expect(error.message).toContain(`Cannot reach ${url}`);
  });

  it('is "server unreachable" too when the answer breaks off after its headers', async () => {
    const url = await serve((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"partial":');
      setTimeout(() => response.destroy(), 20);
    });
    const error = await failureOf(callServer(url));
    expect(error.exitCode).toBe(ExitCode.serverUnavailable);
  });

  it('gives up at its deadline when the answer stalls after its headers, and says it timed out', async () => {
    const url = await serve((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"partial":');
    });
    const started = Date.now();
    const error = await failureOf(callServer(url, { timeoutMs: 300 }));
    expect(error.exitCode).toBe(ExitCode.serverUnavailable);
    expect(error.message).toBe(`Cannot reach ${url}: timed out`);
    expect(Date.now() - started).toBeLessThan(5_000);
    server?.closeAllConnections();
  });

  it('does not follow a redirect with the bearer, and names where it points', async () => {
    let calls = 0;
    const url = await serve((_request, _body, response) => {
      calls += 1;
      response.writeHead(301, { location: 'https://gatehouse.example.com/api/auth/cli/whoami' });
      response.end();
    });
    const error = await failureOf(callServer(`${url}/api/auth/cli/whoami`, { bearer: 'gth_x' }));
    expect(error.exitCode).toBe(ExitCode.serverUnavailable);
    expect(error.message).toContain('redirects to https://gatehouse.example.com');
    expect(calls).toBe(1);
  });
});
