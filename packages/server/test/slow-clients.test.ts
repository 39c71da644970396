import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from './support/harness.js';

/**
 * Clients that hold connections without finishing a request (slowloris) or sit idle are cut by the
 * server's own timeouts, short here so the test is quick; every wait below is bounded.
 */
let server: TestGatehouse;
let port: number;

beforeAll(async () => {
  server = await startTestGatehouse({
    GATEHOUSE_CLIENT_HEADERS_TIMEOUT_MS: '1000',
    GATEHOUSE_CLIENT_REQUEST_TIMEOUT_MS: '2000',
    GATEHOUSE_CLIENT_IDLE_TIMEOUT_MS: '1000',
  });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server?.close();
});

/** Opens a connection and resolves with what the server sent and after how long it closed it. */
function watch(
  socket: Socket,
  giveUpMs: number,
): Promise<{ closedAfterMs: number | undefined; received: string }> {
  const started = Date.now();
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString();
  });
  return new Promise((resolve) => {
    const giveUp = setTimeout(() => {
      socket.destroy();
      resolve({ closedAfterMs: undefined, received });
    }, giveUpMs);
    socket.once('close', () => {
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, received });
    });
    socket.on('error', () => {});
  });
}

/** Writes one byte every `everyMs` until the socket closes (at most `count` times). */
function trickle(socket: Socket, bytes: string, everyMs: number, count: number): void {
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent >= count) {
      clearInterval(timer);
      return;
    }
    socket.write(bytes);
    sent += 1;
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

describe('slow and idle clients', () => {
  it('cuts a client that never finishes its headers, however steadily it trickles', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.write('POST /api/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    trickle(socket, 'x', 200, 100);
    const { closedAfterMs, received } = await watch(socket, 8_000);
    expect(closedAfterMs).toBeDefined();
    expect(closedAfterMs).toBeLessThan(4_000);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('cuts a connection that sends nothing at all', async () => {
    const socket = connect(port, '127.0.0.1');
    const { closedAfterMs } = await watch(socket, 8_000);
    expect(closedAfterMs).toBeDefined();
    expect(closedAfterMs).toBeLessThan(4_000);
  });

  it('cuts a client that trickles its body', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.write(
      'POST /api/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{',
    );
    trickle(socket, ' ', 100, 200);
    const { closedAfterMs } = await watch(socket, 10_000);
    expect(closedAfterMs).toBeDefined();
    expect(closedAfterMs).toBeLessThan(5_000);
  });

  it('closes a keep-alive connection that sits idle after its request', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const { closedAfterMs, received } = await watch(socket, 8_000);
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    expect(closedAfterMs).toBeDefined();
    expect(closedAfterMs).toBeLessThan(4_000);
  });
});
