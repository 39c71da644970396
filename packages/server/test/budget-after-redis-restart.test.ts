import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { startTestGatehouse, type TestGatehouse } from './support/harness.js';
import { OwnRedis } from './support/own-redis.js';

/**
 * An exhausted budget stays exhausted across a Redis restart: the counters Redis lost are not
 * trusted until they are seeded from the usage ledger again, whatever the gateway's reseed
 * interval (left at its 10 s default here, far longer than the test). Its own Redis process,
 * since the shared one must never be restarted under other tests.
 */
let redis: OwnRedis;
let mock: MockUpstream;
let server: TestGatehouse;

beforeAll(async () => {
  redis = await OwnRedis.start();
  mock = await startMockUpstream();
  server = await startTestGatehouse({ REDIS_URL: redis.url });
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
  await redis?.stop();
});

describe('an exhausted budget after a Redis restart', () => {
  it('is refused on the very next call, not admitted from an empty counter', async () => {
    const provider = await server.admin('POST', '/providers', {
      name: 'mock',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o'],
    });
    await server.admin('POST', '/routing-policies', { name: 'p', providers: [provider.id], isDefault: true });
    const project = await server.admin('POST', '/projects', { name: 'exhausted' });
    const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'exhausted' });
    // $0.0125 a call: two calls spend the budget exactly.
    await server.admin('POST', '/budgets', {
      scope: 'key',
      scopeId: key.id,
      limitUsd: 0.025,
      window: 'day',
      action: 'block',
    });
    mock.setDefault({ usage: { inputTokens: 1_000, outputTokens: 1_000 } });
    const chat = () =>
      fetch(`${server.url}/api/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o',
          max_tokens: 1_000,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
    for (let call = 0; call < 2; call++) expect((await chat()).status).toBe(200);
    expect((await chat()).status).toBe(402);
    await server.flushUsage();

    await redis.stop();
    await redis.start(); // empty: every counter is gone

    // While ioredis reconnects a call fails closed (5xx); once Redis answers it must be a 402.
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 50 && statuses.at(-1) !== 402; attempt++) {
      statuses.push((await chat()).status);
      if (statuses.at(-1) !== 402) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(statuses).not.toContain(200);
    expect(statuses.at(-1)).toBe(402);
  });
});
