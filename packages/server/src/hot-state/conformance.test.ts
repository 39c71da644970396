import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHotState } from './memory.js';
import { createRedisHotState } from './redis.js';
import type { BudgetCheck, BudgetCounterKey, HotState } from './types.js';

/**
 * One suite, both implementations: the gateway may be handed either, so they must agree.
 * Redis runs at GATEHOUSE_TEST_REDIS_URL (default 127.0.0.1:6379); without that variable an
 * unreachable local Redis skips the Redis half visibly, with the variable it fails.
 */
const redisUrl = process.env.GATEHOUSE_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const runPrefix = `gatehouse-test:${randomUUID()}:`;
const redisUp = await redisAnswers();
if (!redisUp && process.env.GATEHOUSE_TEST_REDIS_URL) throw new Error(`no Redis at ${redisUrl}`);
if (!redisUp) console.warn(`hot-state conformance: no Redis at ${redisUrl}; Redis cases skipped`);

interface Harness {
  state: HotState;
  /** Another gateway instance sharing the state (memory: the same instance). */
  peer(): Promise<HotState>;
  /** Lets `ms` pass: the injected clock for memory, a real, bounded wait for Redis. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function memoryHarness(): Promise<Harness> {
  let clock = Date.now();
  const state = createMemoryHotState({ now: () => clock });
  const advance = async (ms: number) => {
    clock += ms;
  };
  return { state, peer: async () => state, advance, close: () => state.close() };
}

async function redisHarness(): Promise<Harness> {
  const keyPrefix = `${runPrefix}${randomUUID()}:`;
  const instances = [await createRedisHotState(redisUrl, { keyPrefix })];
  return {
    state: instances[0] as HotState,
    peer: async () => {
      instances.push(await createRedisHotState(redisUrl, { keyPrefix }));
      return instances.at(-1) as HotState;
    },
    // Redis keeps its own time (TIME in the scripts); a few ms absorb timer and rounding jitter.
    advance: (ms) => sleep(ms + 5),
    close: async () => {
      await Promise.all(instances.map((instance) => instance.close()));
    },
  };
}

async function redisAnswers(): Promise<boolean> {
  const probe = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => null });
  probe.on('error', () => {});
  const answered = await probe.connect().then(
    () => probe.ping().then((reply) => reply === 'PONG'),
    () => false,
  );
  probe.disconnect();
  return answered;
}

afterAll(async () => {
  if (!redisUp) return;
  // Only this run's keys: SCAN on the run prefix, never FLUSHALL.
  const redis = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${runPrefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
});

/** Today's window start, so Redis's absolute expiry (start + 40 days) lies in the future. */
const windowStart = Math.floor(Date.now() / 86_400_000) * 86_400_000;
const key = (budgetId: string, start = windowStart): BudgetCounterKey => ({ budgetId, windowStart: start });
const block = (budgetId: string, limitUsd: number): BudgetCheck => ({
  key: key(budgetId),
  limitUsd,
  enforce: true,
});
const MINUTE = 60_000;

describe.each([
  ['memory', memoryHarness],
  ['redis', redisHarness],
] as const)('hot state conformance: %s', (name, create) => {
  let harness: Harness;
  let state: HotState;
  beforeEach(async (context) => {
    if (name === 'redis' && !redisUp) context.skip();
    harness = await create();
    state = harness.state;
  });
  afterEach(async () => harness?.close());
  /** Marks counters as seeded from the ledger (with nothing spent), as admission does first. */
  const seed = (...budgetIds: string[]) =>
    Promise.all(budgetIds.map((budgetId) => state.seedSpent(key(budgetId), 0)));

  it('reserves within the limit, allows exactly reaching it, and refuses beyond with the figures', async () => {
    await seed('b');
    expect(await state.reserve('r1', [block('b', 1)], 0.6, MINUTE)).toEqual({ ok: true });
    expect(await state.reserve('r2', [block('b', 1)], 0.5, MINUTE)).toEqual({
      ok: false,
      budgetId: 'b',
      spentUsd: 0,
      reservedUsd: 0.6,
      limitUsd: 1,
    });
    expect(await state.reserve('r3', [block('b', 1)], 0.4, MINUTE)).toEqual({ ok: true });
    expect(await state.counter(key('b'))).toEqual({ spentUsd: 0, reservedUsd: 1 });
  });

  it('alert budgets never refuse but count every reservation', async () => {
    const alert: BudgetCheck = { key: key('alert'), limitUsd: 0.1, enforce: false };
    expect(await state.reserve('r1', [alert], 0.5, MINUTE)).toEqual({ ok: true });
    expect(await state.reserve('r2', [alert], 0.5, MINUTE)).toEqual({ ok: true });
    expect(await state.counter(key('alert'))).toEqual({ spentUsd: 0, reservedUsd: 1 });
  });

  it('is all-or-nothing across budgets: one refusal changes no counter', async () => {
    const alert: BudgetCheck = { key: key('alert'), limitUsd: 0, enforce: false };
    const checks = [block('org', 10), alert, block('key', 0.2)];
    await seed('org', 'key');
    expect(await state.reserve('r1', checks, 0.3, MINUTE)).toMatchObject({ ok: false, budgetId: 'key' });
    for (const id of ['org', 'alert', 'key'])
      expect(await state.counter(key(id))).toEqual({ spentUsd: 0, reservedUsd: 0 });
    expect(await state.reserve('r2', checks, 0.2, MINUTE)).toEqual({ ok: true });
    for (const id of ['org', 'alert', 'key']) expect((await state.counter(key(id))).reservedUsd).toBe(0.2);
  });

  it('settle moves reserved to spent on every counter, charging the actual cost', async () => {
    await seed('a', 'b');
    await state.reserve('r1', [block('a', 1), block('b', 1)], 0.3, MINUTE);
    await state.settle('r1', [key('a'), key('b')], 0.25);
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
    expect(await state.counter(key('b'))).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
  });

  it('settle is idempotent, and a key listed twice is charged once', async () => {
    await seed('a');
    await state.reserve('r1', [block('a', 1)], 0.3, MINUTE);
    await Promise.all([state.settle('r1', [key('a'), key('a')], 0.2), state.settle('r1', [key('a')], 0.2)]);
    await state.settle('r1', [key('a')], 0.2);
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0.2, reservedUsd: 0 });
  });

  it('settling an unknown reservation still charges its keys, once', async () => {
    await state.settle('never-reserved', [key('a'), key('b')], 0.1);
    await state.settle('never-reserved', [key('a'), key('b')], 0.1);
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0.1, reservedUsd: 0 });
    expect(await state.counter(key('b'))).toEqual({ spentUsd: 0.1, reservedUsd: 0 });
  });

  it('release frees the reservation without spending; releasing again or unknown ids is harmless', async () => {
    await seed('a');
    await state.reserve('r1', [block('a', 1)], 0.8, MINUTE);
    await state.release('r1');
    await state.release('r1');
    await state.release('unknown');
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0, reservedUsd: 0 });
    expect(await state.reserve('r2', [block('a', 1)], 1, MINUTE)).toEqual({ ok: true });
  });

  it('an abandoned reservation stops counting after its ttl; a late settle still charges once', async () => {
    await seed('a');
    await state.reserve('dead', [block('a', 1)], 0.9, 300);
    expect(await state.reserve('blocked', [block('a', 1)], 0.5, MINUTE)).toMatchObject({ ok: false });
    await harness.advance(350);
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0, reservedUsd: 0 });
    expect(await state.reserve('fits', [block('a', 1)], 0.5, MINUTE)).toEqual({ ok: true });
    await state.settle('dead', [key('a')], 0.3);
    await state.settle('dead', [key('a')], 0.3);
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0.3, reservedUsd: 0.5 });
  });

  it('a replayed reserve with a live id does not reserve twice', async () => {
    await seed('a');
    await state.reserve('r1', [block('a', 1)], 0.4, MINUTE);
    expect(await state.reserve('r1', [block('a', 1)], 0.4, MINUTE)).toEqual({ ok: true });
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0, reservedUsd: 0.4 });
  });

  it('seedSpent raises a missing or lower counter and never lowers one', async () => {
    await state.seedSpent(key('a'), 0.5);
    await state.seedSpent(key('a'), 0.3);
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0.5, reservedUsd: 0 });
    await state.seedSpent(key('a'), 0.7);
    await state.settle('r1', [key('a')], 0.1);
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0.8, reservedUsd: 0 });
    expect(await state.reserve('r2', [block('a', 1)], 0.3, MINUTE)).toMatchObject({
      ok: false,
      spentUsd: 0.8,
    });
  });

  it('an enforced counter never seeded admits nothing: settles alone do not seed it', async () => {
    const alert: BudgetCheck = { key: key('alert'), limitUsd: 1, enforce: false };
    // A counter lost in a restart and rebuilt by settles knows only part of the window's spend.
    await state.settle('after-restart', [key('a')], 0.1);
    expect(await state.reserve('r1', [block('a', 1), alert, block('b', 1)], 0.1, MINUTE)).toEqual({
      ok: false,
      unseeded: [key('a'), key('b')],
    });
    // Nothing was reserved anywhere, the alert counter included.
    for (const id of ['a', 'alert', 'b']) expect((await state.counter(key(id))).reservedUsd).toBe(0);
    // Seeded from the ledger, the spend from before the restart refuses the call.
    await state.seedSpent(key('a'), 0.95);
    expect(await state.reserve('r1', [block('a', 1), alert], 0.1, MINUTE)).toMatchObject({
      ok: false,
      budgetId: 'a',
      spentUsd: 0.95,
    });
  });

  it('an alert-only reserve needs no seed', async () => {
    expect(await state.reserve('r1', [{ key: key('x'), limitUsd: 1, enforce: false }], 0.1, MINUTE)).toEqual({
      ok: true,
    });
  });

  it('a seed with lowerIfQuietMs lowers spent only after a quiet spell, leaving reservations', async () => {
    await seed('a');
    await state.reserve('held', [block('a', 1)], 0.2, MINUTE);
    await state.settle('r1', [key('a')], 0.5);
    // Just settled: the event may not have reached the ledger yet, so only raising is allowed.
    await state.seedSpent(key('a'), 0.3, { lowerIfQuietMs: 200 });
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0.5, reservedUsd: 0.2 });
    await harness.advance(250);
    await state.seedSpent(key('a'), 0.3, { lowerIfQuietMs: 200 });
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0.3, reservedUsd: 0.2 });
    await state.seedSpent(key('a'), 0.4, { lowerIfQuietMs: 200 });
    expect((await state.counter(key('a'))).spentUsd).toBe(0.4);
  });

  it('keeps windows and total counters apart', async () => {
    await state.settle('r1', [key('a'), key('a', windowStart - 86_400_000), key('a', 0)], 0.1);
    await state.settle('r2', [key('a', 0)], 0.2);
    expect((await state.counter(key('a'))).spentUsd).toBe(0.1);
    expect((await state.counter(key('a', windowStart - 86_400_000))).spentUsd).toBe(0.1);
    expect((await state.counter(key('a', 0))).spentUsd).toBe(0.3);
  });

  it('rejects bad input without changing anything', async () => {
    await expect(state.reserve('r1', [block('a', 1)], -0.1, MINUTE)).rejects.toThrow(RangeError);
    await expect(state.reserve('r1', [block('a', 1), block('a', 2)], 0.1, MINUTE)).rejects.toThrow(/twice/);
    await expect(state.reserve('r1', [block('a', 1)], 0.1, 0)).rejects.toThrow(RangeError);
    await expect(state.consumeRate([{ key: 'k', limit: 1.5, windowMs: 1, cost: 1 }])).rejects.toThrow(
      RangeError,
    );
    expect(await state.counter(key('a'))).toEqual({ spentUsd: 0, reservedUsd: 0 });
  });

  it('200 concurrent reservations of $0.01 against $1.00 from two instances: exactly 100 succeed', async () => {
    const peer = await harness.peer();
    await seed('race');
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        (index % 2 === 0 ? state : peer).reserve(`r${index}`, [block('race', 1)], 0.01, MINUTE),
      ),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(100);
    for (const result of results)
      if (!result.ok) expect(result.spentUsd + result.reservedUsd).toBeLessThanOrEqual(1);
    expect(await state.counter(key('race'))).toEqual({ spentUsd: 0, reservedUsd: 1 });
    // Settling all of them lands on exactly $1.00: integer micro-dollars, no float drift.
    const admitted = results.flatMap((result, index) => (result.ok ? [`r${index}`] : []));
    await Promise.all(
      admitted.map((id, index) => (index % 2 ? peer : state).settle(id, [key('race')], 0.01)),
    );
    expect(await peer.counter(key('race'))).toEqual({ spentUsd: 1, reservedUsd: 0 });
  });

  it('rate limits hold across concurrent calls from two instances', async () => {
    const peer = await harness.peer();
    const check = { key: 'rpm:vk', limit: 10, windowMs: MINUTE, cost: 1 };
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) => (index % 2 ? peer : state).consumeRate([check])),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(10);
    for (const result of results) {
      if (result.ok) continue;
      expect(result.key).toBe('rpm:vk');
      expect(result.retryAfterMs).toBeGreaterThan(0);
      expect(result.retryAfterMs).toBeLessThanOrEqual(MINUTE / 10);
    }
  });

  it('retryAfterMs is when the limit admits again, and an idle window restores all of it', async () => {
    const check = { key: 'rps', limit: 3, windowMs: 600, cost: 1 };
    for (let index = 0; index < 3; index++) expect(await state.consumeRate([check])).toEqual({ ok: true });
    const refused = await state.consumeRate([check]);
    if (refused.ok) throw new Error('the fourth call within the window must be refused');
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(200);
    await harness.advance(refused.retryAfterMs);
    expect(await state.consumeRate([check])).toEqual({ ok: true });
    expect(await state.consumeRate([check])).toMatchObject({ ok: false });
    await harness.advance(600);
    for (let index = 0; index < 3; index++) expect(await state.consumeRate([check])).toEqual({ ok: true });
  });

  it('rate checks are all-or-nothing, weigh cost, and name the first failing check', async () => {
    const wide = { key: 'tpm:project', limit: 1000, windowMs: MINUTE, cost: 600 };
    const narrow = { key: 'tpm:key', limit: 1000, windowMs: MINUTE, cost: 600 };
    expect(await state.consumeRate([wide])).toEqual({ ok: true });
    const refused = await state.consumeRate([narrow, wide]);
    expect(refused).toMatchObject({ ok: false, key: 'tpm:project' });
    // The refusal consumed nothing from `narrow`: it still has its full 1000.
    expect(await state.consumeRate([{ ...narrow, cost: 1000 }])).toEqual({ ok: true });
    expect(await state.consumeRate([{ ...wide, cost: 400 }])).toEqual({ ok: true });
    expect(await state.consumeRate([{ ...wide, cost: 2000 }])).toEqual({
      ok: false,
      key: 'tpm:project',
      retryAfterMs: MINUTE,
    });
  });

  it('fans messages out to another instance and to the publisher itself; unsubscribe stops them', async () => {
    const peer = await harness.peer();
    const received: string[] = [];
    const own: string[] = [];
    const stop = await peer.subscribe('revocations', (message) => received.push(message));
    await state.subscribe('revocations', (message) => own.push(message));
    const markers: string[] = [];
    await peer.subscribe('marker', (message) => markers.push(message));
    await state.publish('revocations', 'vk_1');
    await vi.waitFor(() => expect([received, own]).toEqual([['vk_1'], ['vk_1']]), { timeout: 2_000 });
    await stop();
    await state.publish('revocations', 'vk_2');
    // Messages arrive in publish order, so once the marker is seen vk_2 would have been too.
    await state.publish('marker', 'done');
    await vi.waitFor(() => expect(markers).toEqual(['done']), { timeout: 2_000 });
    expect(received).toEqual(['vk_1']);
  });

  it('rejects every call after close', async () => {
    await state.close();
    await expect(state.counter(key('a'))).rejects.toThrow(/closed/);
    await expect(state.publish('c', 'm')).rejects.toThrow(/closed/);
  });
});
