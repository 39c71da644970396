import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisHotState } from './redis.js';
import { COUNTER_RETENTION_MS, SETTLED_MEMORY_MS } from './shared.js';
import type { BudgetCounterKey } from './types.js';

/**
 * What only the Redis implementation can show: how it stores state (integer money, bounded
 * lifetimes) and how it behaves when Redis goes away and comes back. Same Redis and skipping
 * rules as the conformance suite.
 */
const redisUrl = process.env.GATEHOUSE_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const keyPrefix = `gatehouse-test:${randomUUID()}:`;
const raw = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => null });
raw.on('error', () => {});
const redisUp = await raw.connect().then(
  () => true,
  () => false,
);
if (!redisUp && process.env.GATEHOUSE_TEST_REDIS_URL) throw new Error(`no Redis at ${redisUrl}`);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const windowStart = Math.floor(Date.now() / 86_400_000) * 86_400_000;
const day: BudgetCounterKey = { budgetId: 'b', windowStart };
const total: BudgetCounterKey = { budgetId: 'b', windowStart: 0 };

/** A TCP proxy in front of Redis that the test can take down and bring back on the same port. */
function redisProxy(target: URL) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let port = 0;
  return {
    get port() {
      return port;
    },
    async start(): Promise<void> {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 6379), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('error', () => {});
          socket.on('close', () => sockets.delete(socket));
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
      const address = server.address();
      if (address && typeof address === 'object') port = address.port;
    },
    async stop(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}

describe.skipIf(!redisUp)('redis hot state: storage and outages', () => {
  afterAll(async () => {
    // Only this file's keys: SCAN on its prefix, never FLUSHALL.
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await raw.del(...keys);
    } while (cursor !== '0');
    raw.disconnect();
  });

  it('stores money as integer micro-dollars and bounds every key’s lifetime', async () => {
    const prefix = `${keyPrefix}layout:`;
    const state = await createRedisHotState(redisUrl, { keyPrefix: prefix });
    try {
      await state.seedSpent(day, 0);
      await state.reserve('r1', [{ key: day, limitUsd: 5, enforce: true }], 0.123456, 10_000);
      await state.settle('r2', [day, total], 0.1);
      await state.consumeRate([{ key: 'rpm', limit: 5, windowMs: 30_000, cost: 1 }]);
      expect(await raw.hget(`${prefix}c:b:${windowStart}`, 'reserved')).toBe('123456');
      expect(await raw.hget(`${prefix}c:b:${windowStart}`, 'spent')).toBe('100000');
      // Windowed counters go 40 days after their window starts; `total` counters stay.
      expect(await raw.pexpiretime(`${prefix}c:b:${windowStart}`)).toBe(windowStart + COUNTER_RETENTION_MS);
      expect(await raw.pexpiretime(`${prefix}z:b:${windowStart}`)).toBe(windowStart + COUNTER_RETENTION_MS);
      expect(await raw.pttl(`${prefix}c:b:0`)).toBe(-1);
      const reservationTtl = await raw.pttl(`${prefix}r:r1`);
      expect(reservationTtl).toBeGreaterThan(9_000);
      expect(reservationTtl).toBeLessThanOrEqual(10_000);
      expect(await raw.pttl(`${prefix}s:r2`)).toBeGreaterThan(SETTLED_MEMORY_MS - 10_000);
      const bucketTtl = await raw.pttl(`${prefix}rl:rpm`);
      expect(bucketTtl).toBeGreaterThan(29_000);
      expect(bucketTtl).toBeLessThanOrEqual(30_000);
      await state.settle('r1', [day], 0.1);
      expect(await raw.exists(`${prefix}r:r1`)).toBe(0);
      expect(await raw.hget(`${prefix}c:b:${windowStart}`, 'reserved')).toBe('0');
    } finally {
      await state.close();
    }
  });

  it('refuses to start against an unreachable Redis, quickly and without echoing the URL', async () => {
    const started = Date.now();
    const attempt = createRedisHotState('redis://:secret-password@127.0.0.1:1');
    await expect(attempt).rejects.toThrow(/cannot connect to Redis/);
    await attempt.catch((error: Error) => expect(error.message).not.toContain('secret-password'));
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('fails fast while Redis is away, then reconnects with state and subscriptions intact', async () => {
    const proxy = redisProxy(new URL(redisUrl));
    await proxy.start();
    const proxied = new URL(redisUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const prefix = `${keyPrefix}outage:`;
    const state = await createRedisHotState(proxied.toString(), { keyPrefix: prefix });
    const direct = await createRedisHotState(redisUrl, { keyPrefix: prefix });
    try {
      await state.seedSpent(day, 0);
      await state.reserve('r1', [{ key: day, limitUsd: 1, enforce: true }], 0.4, 60_000);
      const received: string[] = [];
      await state.subscribe('policy', (message) => received.push(message));

      await proxy.stop();
      await sleep(50);
      const started = Date.now();
      await expect(
        state.reserve('r2', [{ key: day, limitUsd: 1, enforce: true }], 0.1, 60_000),
      ).rejects.toThrow();
      // Well under REDIS_COMMAND_TIMEOUT_MS: rejected at once, not after a timeout.
      expect(Date.now() - started).toBeLessThan(500);
      // Redis itself never went away: another instance keeps working, and the refused call left no trace.
      expect(await direct.counter(day)).toEqual({ spentUsd: 0, reservedUsd: 0.4 });

      await proxy.start();
      const deadline = Date.now() + 5_000;
      while (
        !(await state.counter(day).then(
          () => true,
          () => false,
        ))
      ) {
        if (Date.now() > deadline) throw new Error('no reconnect within 5 s');
        await sleep(50);
      }
      expect(await state.counter(day)).toEqual({ spentUsd: 0, reservedUsd: 0.4 });
      // The subscriber connection is restored too (ioredis re-subscribes on reconnect).
      while (received.length === 0) {
        if (Date.now() > deadline) throw new Error('subscription not restored within 5 s');
        await direct.publish('policy', 'changed');
        await sleep(50);
      }
      expect(received[0]).toBe('changed');
    } finally {
      await Promise.all([state.close(), direct.close()]);
      await proxy.stop();
    }
  });
});
