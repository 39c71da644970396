import { Redis, type RedisOptions } from 'ioredis';
import {
  counterScript,
  rateScript,
  releaseScript,
  reserveScript,
  seedScript,
  settleScript,
} from './redis-scripts.js';
import {
  counterExpiresAt,
  counterId,
  fromMicros,
  prepareKeys,
  prepareRate,
  prepareReserve,
  requireQuietMs,
  SETTLED_MEMORY_MS,
  toMicros,
} from './shared.js';
import type { BudgetCounter, BudgetCounterKey, HotState, RateResult, ReserveResult } from './types.js';

/**
 * A Redis command that has not answered by then is failed, so a stalled Redis costs a request at
 * most this much before the gateway's fail-closed path takes over.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;

/** Keys first, then arguments; the key count comes first because it varies with the checks. */
type ScriptCall = (numberOfKeys: number, ...keysThenArgs: (string | number)[]) => Promise<unknown>;

interface ScriptCommands {
  hotStateReserve: ScriptCall;
  hotStateSettle: ScriptCall;
  hotStateRelease: ScriptCall;
  hotStateCounter: ScriptCall;
  hotStateSeed: ScriptCall;
  hotStateRate: ScriptCall;
}

/**
 * Hot state shared by every gateway instance through one Redis (standalone or Sentinel URL).
 *
 * - Every mutation is one Lua script (ioredis `defineCommand`, EVALSHA with a reload on
 *   NOSCRIPT), so checks and writes cannot interleave with another instance's.
 * - Money is stored as integer micro-dollars; conversion happens here, at the edge.
 * - Time is Redis's own clock (TIME inside the scripts) unless `now` is given, so instances with
 *   skewed clocks agree on expiry. `now` exists for tests; do not mix clocks on one prefix.
 * - Failing fast: the offline queue is off and in-flight commands are not retried after a
 *   reconnect, so while Redis is unreachable every call rejects at once (or after
 *   `REDIS_COMMAND_TIMEOUT_MS`) and the gateway decides — it fails closed. ioredis keeps
 *   reconnecting in the background; subscriptions are restored on reconnect, and messages
 *   published meanwhile are lost (at-most-once; caches are time-bounded as a safety net).
 *   Retried reserve/settle/release are idempotent; a retried consumeRate counts twice.
 * - Redis Cluster: a script may only touch keys in one slot. Budget counters of a request belong
 *   to different scopes (organisation, team, key) and the interface carries no shared tag such as
 *   an organisation id, so the only sound layout is one hash tag for everything: pass a prefix
 *   like `gatehouse:{hot}:`. That puts all hot state on one shard, which suits its small size but
 *   does not spread load; this function also builds a plain (non-Cluster) client.
 * - `close()` quits both connections (commands and the subscriber).
 */
export async function createRedisHotState(
  url: string,
  options: { keyPrefix?: string; now?: () => number } = {},
): Promise<HotState> {
  const prefix = options.keyPrefix ?? 'gatehouse:';
  const clock = options.now;
  const connectionOptions: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  };
  const client = new Redis(url, connectionOptions);
  // Pub/sub needs its own connection: a subscribed connection can run no other command.
  const subscriber = client.duplicate();
  // Errors surface as rejected commands; without listeners ioredis would also log each one.
  client.on('error', () => {});
  subscriber.on('error', () => {});
  try {
    await Promise.all([client.connect(), subscriber.connect()]);
  } catch (error) {
    client.disconnect();
    subscriber.disconnect();
    // The URL may hold a password, so it stays out of the message.
    throw new Error('hot state: cannot connect to Redis (REDIS_URL)', { cause: error });
  }

  client.defineCommand('hotStateReserve', { lua: reserveScript });
  client.defineCommand('hotStateSettle', { lua: settleScript });
  client.defineCommand('hotStateRelease', { lua: releaseScript });
  client.defineCommand('hotStateCounter', { lua: counterScript });
  client.defineCommand('hotStateSeed', { lua: seedScript });
  client.defineCommand('hotStateRate', { lua: rateScript });
  const scripts = client as unknown as ScriptCommands;

  const handlers = new Map<string, Set<(message: string) => void>>();
  subscriber.on('message', (channel: string, message: string) => {
    for (const handler of handlers.get(channel) ?? []) {
      try {
        handler(message);
      } catch {
        // Documented: handlers own their errors; one failing must not starve the others.
      }
    }
  });

  let closed = false;
  function ensureOpen(): void {
    if (closed) throw new Error('hot state is closed');
  }
  const now = (): string => (clock ? String(clock()) : '');
  const counterKeys = (key: BudgetCounterKey): [string, string] => [
    `${prefix}c:${counterId(key)}`,
    `${prefix}z:${counterId(key)}`,
  ];
  const reservationKey = (id: string): string => `${prefix}r:${id}`;
  const channelName = (channel: string): string => `${prefix}ch:${channel}`;

  return {
    async reserve(reservationId, checks, amountUsd, ttlMs): Promise<ReserveResult> {
      ensureOpen();
      const prepared = prepareReserve(reservationId, checks, amountUsd, ttlMs);
      const keys = [
        reservationKey(reservationId),
        ...prepared.checks.flatMap((check) => counterKeys(check.key)),
      ];
      const args = prepared.checks.flatMap((check) => [
        check.limitMicros,
        check.enforce ? '1' : '0',
        counterExpiresAt(check.key),
      ]);
      const reply = (await scripts.hotStateReserve(
        keys.length,
        ...keys,
        now(),
        reservationId,
        prepared.amountMicros,
        ttlMs,
        ...args,
      )) as number[];
      if (reply[0] === 1) return { ok: true };
      if (reply[0] === 2) {
        const unseeded = reply.slice(1).map((index) => prepared.checks[index - 1]?.key);
        return { ok: false, unseeded: unseeded.filter((key) => key !== undefined) };
      }
      const failing = prepared.checks[(reply[1] ?? 0) - 1];
      if (!failing) throw new Error('hot state: reserve script named no failing check');
      return {
        ok: false,
        budgetId: failing.key.budgetId,
        spentUsd: fromMicros(reply[2] ?? 0),
        reservedUsd: fromMicros(reply[3] ?? 0),
        limitUsd: fromMicros(failing.limitMicros),
      };
    },

    async settle(reservationId, keys, actualUsd): Promise<void> {
      ensureOpen();
      const unique = prepareKeys(keys);
      const actualMicros = toMicros(actualUsd, 'actualUsd');
      const redisKeys = [
        reservationKey(reservationId),
        `${prefix}s:${reservationId}`,
        ...unique.flatMap(counterKeys),
      ];
      await scripts.hotStateSettle(
        redisKeys.length,
        ...redisKeys,
        now(),
        reservationId,
        actualMicros,
        SETTLED_MEMORY_MS,
        ...unique.map(counterExpiresAt),
      );
    },

    async release(reservationId): Promise<void> {
      ensureOpen();
      await scripts.hotStateRelease(1, reservationKey(reservationId), reservationId);
    },

    async counter(key): Promise<BudgetCounter> {
      ensureOpen();
      prepareKeys([key]);
      const reply = (await scripts.hotStateCounter(2, ...counterKeys(key), now())) as number[];
      return { spentUsd: fromMicros(reply[0] ?? 0), reservedUsd: fromMicros(reply[1] ?? 0) };
    },

    async seedSpent(key, spentUsd, options = {}): Promise<void> {
      ensureOpen();
      prepareKeys([key]);
      const seedMicros = toMicros(spentUsd, 'spentUsd');
      const quietMs = options.lowerIfQuietMs;
      if (quietMs !== undefined) requireQuietMs(quietMs);
      await scripts.hotStateSeed(
        2,
        ...counterKeys(key),
        now(),
        seedMicros,
        counterExpiresAt(key),
        quietMs === undefined ? '' : quietMs,
      );
    },

    async consumeRate(checks): Promise<RateResult> {
      ensureOpen();
      prepareRate(checks);
      if (checks.length === 0) return { ok: true };
      const keys = checks.map((check) => `${prefix}rl:${check.key}`);
      const args = checks.flatMap((check) => [check.limit, check.windowMs, check.cost]);
      const reply = (await scripts.hotStateRate(keys.length, ...keys, now(), ...args)) as number[];
      if (reply[0] === 1) return { ok: true };
      const failing = checks[(reply[1] ?? 0) - 1];
      if (!failing) throw new Error('hot state: rate script named no failing check');
      return { ok: false, key: failing.key, retryAfterMs: reply[2] ?? failing.windowMs };
    },

    async publish(channel, message): Promise<void> {
      ensureOpen();
      await client.publish(channelName(channel), message);
    },

    async subscribe(channel, handler): Promise<() => Promise<void>> {
      ensureOpen();
      const name = channelName(channel);
      // Wrapped so the same function subscribed twice is two subscriptions.
      const registered = (message: string): void => handler(message);
      let set = handlers.get(name);
      if (!set) {
        set = new Set();
        handlers.set(name, set);
      }
      set.add(registered);
      try {
        // SUBSCRIBE is idempotent; awaiting it means later publishes reach this handler.
        await subscriber.subscribe(name);
      } catch (error) {
        set.delete(registered);
        throw error;
      }
      const channelHandlers = set;
      return async () => {
        if (!channelHandlers.delete(registered) || channelHandlers.size > 0) return;
        handlers.delete(name);
        if (!closed) await subscriber.unsubscribe(name);
      };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      handlers.clear();
      await Promise.all(
        [client, subscriber].map(async (connection) => {
          // quit() needs a live connection; when Redis is gone, dropping the socket is enough.
          await connection.quit().catch(() => connection.disconnect());
        }),
      );
    },
  };
}
