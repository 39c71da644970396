import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from './mock-upstream/mock-upstream.js';
import { type QuickStart, quickStart, startTestGatehouse, type TestGatehouse } from './support/harness.js';
import { OwnRedis } from './support/own-redis.js';

/**
 * With the hot state (Redis) unreachable, budgeted calls are answered honestly: 503 with
 * retry-after in the caller's dialect (the default, fail closed), or served unchecked when the
 * organisation chose to fail open. A fresh key that cannot be looked up is a 503 too.
 */
let redis: OwnRedis;
let mock: MockUpstream;
let server: TestGatehouse;
let setup: QuickStart;

beforeAll(async () => {
  redis = await OwnRedis.start();
  mock = await startMockUpstream();
  server = await startTestGatehouse({ REDIS_URL: redis.url });
  setup = await quickStart(server, mock);
  await server.admin('POST', '/budgets', {
    scope: 'project',
    scopeId: setup.projectId,
    limitUsd: 10,
    window: 'month',
    action: 'block',
  });
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
  await redis?.stop();
});

describe('storage that cannot be reached', () => {
  it('refuses budgeted calls with 503 and retry-after in each dialect, then serves them when the organisation fails open', async () => {
    const openai = new OpenAI({ apiKey: setup.key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    const anthropic = new Anthropic({ apiKey: setup.key, baseURL: `${server.url}/api`, maxRetries: 0 });
    // Served while Redis answers: the key and its budgets are cached from here on.
    await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });

    await redis.stop();
    const refused = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    const openAiError = refused as InstanceType<typeof OpenAI.APIError>;
    expect(openAiError.status).toBe(503);
    expect(openAiError.headers?.get('retry-after')).toBe('5');
    expect(openAiError.message).toContain('storage is unreachable');
    expect(openAiError.error).toMatchObject({ type: 'server_error', code: 'storage_unavailable' });

    const anthropicRefusal = await anthropic.messages
      .create({ model: 'claude-sonnet-4-6', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect((anthropicRefusal as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
    expect((anthropicRefusal as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'api_error' },
    });

    const organization = await server.admin('PATCH', '/organization', { storageOutageMode: 'open' });
    expect(organization.storageOutageMode).toBe('open');
    const served = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(served.choices[0]?.message.content).toBeTruthy();

    await server.admin('PATCH', '/organization', { storageOutageMode: 'closed' });
    await redis.start();
  });

  it.skipIf(!process.env.GATEHOUSE_TEST_POSTGRES_URL)(
    'answers a key it cannot look up with 503 and retry-after while PostgreSQL refuses connections',
    async () => {
      const key = await server.admin('POST', '/virtual-keys', { projectId: setup.projectId, name: 'fresh' });
      const database = /PostgreSQL at .*\/([a-z0-9_]+)/.exec(server.gatehouse.storage.description)?.[1];
      expect(database).toBeDefined();
      const admin = new pg.Client({ connectionString: process.env.GATEHOUSE_TEST_POSTGRES_URL });
      await admin.connect();
      try {
        // Only this test's scratch database goes away; every other test's stays up.
        await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
          database,
        ]);
        const response = await fetch(`${server.url}/api/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
        });
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(await response.json()).toMatchObject({ error: { code: 'storage_unavailable' } });
      } finally {
        await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
        await admin.end();
      }
    },
  );
});
