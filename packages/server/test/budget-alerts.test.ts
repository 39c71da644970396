import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { startTestGatehouse, type TestGatehouse } from './support/harness.js';

const SECRET = 'alert-signing-secret-0123456789';

interface Received {
  body: string;
  signature: string | undefined;
}

let mock: MockUpstream;
let server: TestGatehouse;
let receiver: Server;
const received: Received[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      received.push({ body, signature: request.headers['x-gatehouse-signature'] as string | undefined });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  mock = await startMockUpstream();
  server = await startTestGatehouse({
    GATEHOUSE_ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/alerts`,
    GATEHOUSE_ALERT_WEBHOOK_SECRET: SECRET,
  });
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

function verify(entry: Received): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(entry.signature ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', SECRET).update(`${match[1]}.${entry.body}`).digest('hex');
  return expected === match[2];
}

async function waitForAlerts(count: number) {
  for (let wait = 0; wait < 100 && received.length < count; wait++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('alert budgets', () => {
  it('announce crossing 50, 80 and 100 % once each per window, signed', async () => {
    const provider = await server.admin('POST', '/providers', {
      name: 'mock',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o'],
    });
    await server.admin('POST', '/routing-policies', { name: 'p', providers: [provider.id], isDefault: true });
    const project = await server.admin('POST', '/projects', { name: 'alerts' });
    const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'alerts' });
    // gpt-4o at 1,000 + 1,000 tokens is $0.0125 a call: 42 %, 83 %, 125 %, 167 % of $0.03.
    const budget = await server.admin('POST', '/budgets', {
      name: 'team spend',
      scope: 'key',
      scopeId: key.id,
      limitUsd: 0.03,
      window: 'month',
      action: 'alert',
    });
    mock.setDefault({ usage: { inputTokens: 1_000, outputTokens: 1_000 } });
    const thresholdsAfterCall: number[][] = [];
    for (let call = 0; call < 4; call++) {
      const response = await fetch(`${server.url}/api/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.status).toBe(200); // alert budgets never block
      await response.arrayBuffer();
      await waitForAlerts([0, 2, 3, 3][call] as number);
      await new Promise((resolve) => setTimeout(resolve, 100)); // room for a duplicate to show up
      thresholdsAfterCall.push(received.map((entry) => JSON.parse(entry.body).threshold));
    }
    expect(thresholdsAfterCall).toEqual([[], [50, 80], [50, 80, 100], [50, 80, 100]]);
    for (const entry of received) expect(verify(entry)).toBe(true);
    const last = JSON.parse(received.at(-1)?.body ?? '{}');
    expect(last).toMatchObject({
      type: 'budget.threshold_crossed',
      threshold: 100,
      budget: { id: budget.id, name: 'team spend', limitUsd: 0.03, window: 'month' },
    });
    expect(last.spentUsd).toBeGreaterThanOrEqual(0.03);
  });
});
