import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { canStartCluster, startTestCluster, type TestGatehouse } from './support/harness.js';

/**
 * Three gateway instances sharing PostgreSQL and Redis: a change made through one reaches the
 * others through the hot state's pub/sub, well inside a second, not after their caches expire.
 */
const redisUrl = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe.skipIf(!canStartCluster)('fan-out across gateway instances', () => {
  let mock: MockUpstream;
  let instances: TestGatehouse[] = [];
  let projectId: string;

  beforeAll(async () => {
    mock = await startMockUpstream();
    // A key cache of ten minutes: only fan-out can explain a refusal within a second.
    instances = await startTestCluster(3, { REDIS_URL: redisUrl, GATEHOUSE_KEY_CACHE_TTL_MS: '600000' });
    const [first] = instances as [TestGatehouse];
    const provider = await first.admin('POST', '/providers', {
      name: 'mock',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o'],
    });
    await first.admin('POST', '/routing-policies', {
      name: 'default',
      providers: [provider.id],
      isDefault: true,
    });
    projectId = (await first.admin('POST', '/projects', { name: 'fan-out' })).id;
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close();
    await mock?.close();
  });

  function chat(instance: TestGatehouse, key: string) {
    return fetch(`${instance.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
  }

  it('refuses a key revoked through one instance on every instance within a second', async () => {
    const [first, ...others] = instances as [TestGatehouse, ...TestGatehouse[]];
    const key = await first.admin('POST', '/virtual-keys', { projectId, name: 'revoked everywhere' });
    for (const instance of instances) expect((await chat(instance, key.key)).status).toBe(200); // cached as valid

    const revokedAt = Date.now();
    await first.admin('DELETE', `/virtual-keys/${key.id}`);
    expect((await chat(first, key.key)).status).toBe(401);
    for (const instance of others) {
      let status = 200;
      while (status === 200 && Date.now() - revokedAt < 1_000) {
        status = (await chat(instance, key.key)).status;
        if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(status).toBe(401);
    }
  });

  it('applies a budget created through one instance on the others, sharing one counter', async () => {
    const [first, second, third] = instances as [TestGatehouse, TestGatehouse, TestGatehouse];
    const key = await first.admin('POST', '/virtual-keys', { projectId, name: 'shared budget' });
    // The others now hold "no budgets for this key" in their caches.
    expect((await chat(second, key.key)).status).toBe(200);
    expect((await chat(third, key.key)).status).toBe(200);
    await first.admin('POST', '/budgets', {
      scope: 'key',
      scopeId: key.id,
      limitUsd: 0.000001,
      window: 'day',
      action: 'block',
    });
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 1_000) {
      status = (await chat(third, key.key)).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(402);
  });
});

describe.skipIf(!canStartCluster)('fan-out without Redis, through PostgreSQL', () => {
  let mock: MockUpstream;
  let instances: TestGatehouse[] = [];

  beforeAll(async () => {
    mock = await startMockUpstream();
    instances = await startTestCluster(2, { GATEHOUSE_KEY_CACHE_TTL_MS: '600000' });
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close();
    await mock?.close();
  });

  it('refuses a key revoked through one instance on the other within a second', async () => {
    const [first, second] = instances as [TestGatehouse, TestGatehouse];
    const provider = await first.admin('POST', '/providers', {
      name: 'mock',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o'],
    });
    await first.admin('POST', '/routing-policies', {
      name: 'default',
      providers: [provider.id],
      isDefault: true,
    });
    const project = await first.admin('POST', '/projects', { name: 'notify' });
    const key = await first.admin('POST', '/virtual-keys', { projectId: project.id, name: 'notify' });
    const chat = (instance: TestGatehouse) =>
      fetch(`${instance.url}/api/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      });
    expect((await chat(second)).status).toBe(200);
    const revokedAt = Date.now();
    await first.admin('DELETE', `/virtual-keys/${key.id}`);
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 1_000) {
      status = (await chat(second)).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(401);
  });
});
