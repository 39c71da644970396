import pg from 'pg';

/** pub/sub, the part of the hot state the change feed needs. */
export interface MessageBus {
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  /**
   * Optional: `listener` runs each time the bus's subscriptions are restored after a lost
   * connection, when messages sent meanwhile may be missing.
   */
  onReconnect?(listener: () => void): void;
}

/** Between attempts to restore a lost listening connection: doubling from the first to the last. */
const RECONNECT_DELAYS_MS = { first: 250, last: 5_000 };
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Change fan-out over PostgreSQL's LISTEN/NOTIFY, for instances that share a database but no
 * Redis. One dedicated connection listens; notifications go out through a short-lived one. A lost
 * listening connection is replaced (every channel listened to again, then `onReconnect`
 * listeners run) until the bus is closed; notifications sent meanwhile are lost, which the change
 * log makes up for.
 * @see https://www.postgresql.org/docs/current/sql-notify.html
 */
export async function createPostgresNotifyBus(
  url: string,
  onError: (error: unknown) => void,
): Promise<MessageBus & { close(): Promise<void> }> {
  const publisher = new pg.Pool({
    connectionString: url,
    max: 1,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  publisher.on('error', onError);
  const handlers = new Map<string, Set<(message: string) => void>>();
  const reconnectListeners: (() => void)[] = [];
  let closed = false;
  let listener: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const onNotification = (notification: pg.Notification) => {
    for (const handler of handlers.get(notification.channel) ?? []) handler(notification.payload ?? '');
  };
  async function listen(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client.on('notification', onNotification);
    // An error is followed by 'end'; the connection is replaced there, once.
    client.on('error', onError);
    try {
      await client.connect();
      for (const name of handlers.keys()) await client.query(`LISTEN ${name}`);
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    client.once('end', () => {
      if (listener === client) listener = undefined;
      replaceListener(RECONNECT_DELAYS_MS.first);
    });
    return client;
  }
  function replaceListener(delayMs: number): void {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      listen().then(
        (client) => {
          if (closed) {
            client.end().catch(() => {});
            return;
          }
          listener = client;
          for (const run of reconnectListeners) run();
        },
        (error: unknown) => {
          onError(error);
          replaceListener(Math.min(delayMs * 2, RECONNECT_DELAYS_MS.last));
        },
      );
    }, delayMs);
    retry.unref();
  }

  listener = await listen();
  const channelName = (channel: string) => `gatehouse_${channel.replace(/[^a-z0-9_]/gi, '_')}`;
  return {
    async publish(channel, message) {
      await publisher.query('select pg_notify($1, $2)', [channelName(channel), message]);
    },
    async subscribe(channel, handler) {
      const name = channelName(channel);
      if (!handlers.has(name)) {
        handlers.set(name, new Set());
        // Without a connection right now, the replacement listens to every channel in `handlers`.
        await listener?.query(`LISTEN ${name}`);
      }
      handlers.get(name)?.add(handler);
      return async () => {
        handlers.get(name)?.delete(handler);
      };
    },
    onReconnect(run) {
      reconnectListeners.push(run);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await listener?.end().catch(() => {});
      await publisher.end();
    },
  };
}
