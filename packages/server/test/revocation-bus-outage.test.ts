import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { canStartCluster, freePort, startTestCluster, type TestGatehouse } from './support/harness.js';
import { redisAnswers } from './support/own-redis.js';

/**
 * Three gateway instances on one PostgreSQL and a Redis of this file's own (the shared one must
 * not be stopped under other tests). With Redis stopped, pub/sub carries nothing; a key revoked
 * through one instance is still refused by the others within one change-log poll interval
 * (`GATEHOUSE_CHANGE_POLL_MS`, the default 1 s) plus a margin — not after their ten-minute key
 * caches expire. When Redis is back, fan-out goes over the bus again.
 */
const POLL_MS = 1_000;
/** The documented bound: the poll interval plus a margin for the read and a loaded machine. */
const BOUND_MS = POLL_MS + 500;
/**
 * Revocations measured during the outage; each waits at most twice the bound per instance.
 * `GATEHOUSE_TEST_OUTAGE_REVOCATIONS` raises it for a measurement run.
 */
const REVOCATIONS = Math.min(Number(process.env.GATEHOUSE_TEST_OUTAGE_REVOCATIONS ?? 6) || 6, 200);

let redis: ChildProcess | undefined;
let redisPort: number;

async function startRedis(): Promise<void> {
  redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await redisAnswers(redisPort)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('redis-server did not start');
}

/** Killed by a signal, a process has a `signalCode` and no `exitCode`. */
const redisRunning = () => redis !== undefined && redis.exitCode === null && redis.signalCode === null;

async function stopRedis(): Promise<void> {
  const running = redis;
  if (!running || !redisRunning()) return;
  await new Promise((resolve) => {
    running.once('exit', resolve);
    running.kill('SIGKILL');
  });
}

describe.skipIf(!canStartCluster)('change announcements across a Redis outage', () => {
  let mock: MockUpstream;
  let instances: TestGatehouse[] = [];
  let projectId: string;
  let policyId: string;

  beforeAll(async () => {
    redisPort = await freePort();
    await startRedis();
    mock = await startMockUpstream();
    instances = await startTestCluster(3, {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      // Ten minutes: only the change feed can explain a refusal within seconds.
      GATEHOUSE_KEY_CACHE_TTL_MS: '600000',
      GATEHOUSE_CHANGE_POLL_MS: String(POLL_MS),
    });
    const [first] = instances as [TestGatehouse];
    const provider = await first.admin('POST', '/providers', {
      name: 'mock',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o', 'gpt-4o-mini'],
    });
    const policy = await first.admin('POST', '/routing-policies', {
      name: 'outage',
      providers: [provider.id],
      isDefault: true,
    });
    policyId = policy.id;
    projectId = (await first.admin('POST', '/projects', { name: 'outage' })).id;
  }, 60_000);
  afterAll(async () => {
    // Back up before closing, in case a test failed mid-outage: quitting waits on a live Redis.
    if (!redisRunning()) await startRedis();
    for (const instance of instances) await instance.close();
    await mock?.close();
    await stopRedis();
  });

  async function chat(instance: TestGatehouse, key: string, model = 'gpt-4o'): Promise<number> {
    const response = await fetch(`${instance.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await response.arrayBuffer();
    return response.status;
  }

  /** Milliseconds from `since` until `instance` answers `wanted`, polling back to back; bounded. */
  async function firstAnswer(
    instance: TestGatehouse,
    key: string,
    wanted: number,
    since: number,
    model = 'gpt-4o',
  ): Promise<number | undefined> {
    for (let sent = 0; sent < 2_000 && Date.now() - since < BOUND_MS * 2; sent++) {
      if ((await chat(instance, key, model)) === wanted) return Date.now() - since;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return undefined;
  }

  async function cachedEverywhere(name: string): Promise<{ id: string; key: string }> {
    const [first] = instances as [TestGatehouse];
    const key = await first.admin('POST', '/virtual-keys', { projectId, name });
    for (const instance of instances) expect(await chat(instance, key.key)).toBe(200);
    return key;
  }

  it('refuses a key revoked while Redis is down on every instance within the poll bound', async () => {
    const [first, ...others] = instances as [TestGatehouse, ...TestGatehouse[]];
    await stopRedis();
    const delays: number[] = [];
    for (let index = 0; index < REVOCATIONS; index++) {
      // Warmed right before its revocation: any cache clear drops every key, so a key warmed
      // earlier would be read fresh (and refused) without any announcement reaching the instance.
      const key = await cachedEverywhere(`outage ${index}`);
      // At a random point of the poll cycle, so the delays sample it evenly.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * POLL_MS));
      const revokedAt = Date.now();
      await first.admin('DELETE', `/virtual-keys/${key.id}`);
      expect(await chat(first, key.key)).toBe(401); // the instance that took the call: at once
      const outcomes = await Promise.all(
        others.map((instance) => firstAnswer(instance, key.key, 401, revokedAt)),
      );
      for (const delay of outcomes) {
        expect(delay).toBeDefined();
        delays.push(delay as number);
      }
    }
    delays.sort((left, right) => left - right);
    const rank = (share: number) => delays[Math.min(delays.length - 1, Math.ceil(share * delays.length) - 1)];
    console.log(
      `first refusal on the other instances during the outage (${delays.length}): ` +
        `p50 ${rank(0.5)} ms, p99 ${rank(0.99)} ms, max ${delays.at(-1)} ms, bound ${BOUND_MS} ms`,
    );
    expect(delays.at(-1)).toBeLessThanOrEqual(BOUND_MS);
  }, 60_000);

  it('brings a policy change made while Redis is down to the other instances', async () => {
    const [first, ...others] = instances as [TestGatehouse, ...TestGatehouse[]];
    const key = await first.admin('POST', '/virtual-keys', { projectId, name: 'policy during outage' });
    for (const instance of instances) expect(await chat(instance, key.key, 'gpt-4o-mini')).toBe(200);
    const changedAt = Date.now();
    await first.admin('PATCH', `/routing-policies/${policyId}`, { deniedModels: ['gpt-4o-mini'] });
    for (const instance of others) {
      const delay = await firstAnswer(instance, key.key, 403, changedAt, 'gpt-4o-mini');
      expect(delay).toBeDefined();
      expect(delay).toBeLessThanOrEqual(BOUND_MS);
    }
    await first.admin('PATCH', `/routing-policies/${policyId}`, { deniedModels: [] });
  }, 30_000);

  it('fans out over the bus again once Redis is back', async () => {
    await startRedis();
    const [first, ...others] = instances as [TestGatehouse, ...TestGatehouse[]];
    // ioredis reconnects in the background: wait until a budget check through Redis works again.
    const budgeted = await first.admin('POST', '/virtual-keys', { projectId, name: 'reconnect probe' });
    await first.admin('POST', '/budgets', {
      scope: 'key',
      scopeId: budgeted.id,
      limitUsd: 100,
      window: 'day',
      action: 'block',
    });
    // ioredis retries at most every 2 s, so each instance is back within a few seconds.
    const reconnectStarted = Date.now();
    for (const instance of instances) {
      let status = 0;
      for (
        let attempt = 0;
        attempt < 100 && status !== 200 && Date.now() - reconnectStarted < 10_000;
        attempt++
      ) {
        status = await chat(instance, budgeted.key);
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
    }

    // The subscriber connection reconnects on its own schedule: the first revocation that
    // reaches both others far sooner than a poll could shows it is back.
    const fanOutDelays = async (name: string) => {
      const key = await cachedEverywhere(name);
      const revokedAt = Date.now();
      await first.admin('DELETE', `/virtual-keys/${key.id}`);
      const delays = await Promise.all(
        others.map((instance) => firstAnswer(instance, key.key, 401, revokedAt)),
      );
      return delays.map((delay) => delay ?? Number.POSITIVE_INFINITY);
    };
    const fast = (delays: number[]) => delays.every((delay) => delay < POLL_MS / 4);
    let back = false;
    for (let attempt = 0; attempt < 8 && !back; attempt++)
      back = fast(await fanOutDelays(`reconnect ${attempt}`));
    expect(back).toBe(true);
    // Then every revocation goes over the bus: three in a row, each far inside a poll interval.
    for (let index = 0; index < 3; index++)
      expect(fast(await fanOutDelays(`after the outage ${index}`))).toBe(true);
  }, 60_000);
});
