import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { startTestGatehouse, type TestGatehouse } from './support/harness.js';
import { OwnRedis } from './support/own-redis.js';

/**
 * A Redis of the test's own (the shared one must not be restarted under other tests): budget
 * counters lost in a Redis restart are rebuilt from the usage ledger, never charged twice.
 */
let redis: OwnRedis;
let mock: MockUpstream;
let server: TestGatehouse;

beforeAll(async () => {
  redis = await OwnRedis.start();
  mock = await startMockUpstream();
  server = await startTestGatehouse({
    REDIS_URL: redis.url,
    GATEHOUSE_BUDGET_RESEED_MS: '200',
  });
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
  await redis?.stop();
});

describe('a Redis restart', () => {
  it('rebuilds budget counters from the usage ledger without double charging', async () => {
    const provider = await server.admin('POST', '/providers', {
      name: 'mock',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o'],
    });
    await server.admin('POST', '/routing-policies', { name: 'p', providers: [provider.id], isDefault: true });
    const project = await server.admin('POST', '/projects', { name: 'restart' });
    const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'restart' });
    const budget = await server.admin('POST', '/budgets', {
      scope: 'key',
      scopeId: key.id,
      // $0.0125 a call: two before the restart, a third fits, a fourth would pass $0.04.
      limitUsd: 0.04,
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
    await server.flushUsage();

    await redis.stop();
    await redis.start(); // empty: every counter is gone
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the reseed interval; ioredis reconnects

    let third = 0;
    for (let attempt = 0; attempt < 40 && third !== 200; attempt++) {
      third = (await chat()).status;
      if (third !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(third).toBe(200);
    // Only a counter rebuilt from the ledger knows the two calls before the restart.
    expect((await chat()).status).toBe(402);

    await server.flushUsage();
    const after = await server.admin('GET', `/budgets/${budget.id}`);
    expect(after.spentUsd).toBeCloseTo(0.0375, 9); // three calls, none charged twice
  });
});
