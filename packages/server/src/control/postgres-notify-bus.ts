import pg from 'pg';

/** pub/sub, the part of the hot state the change feed needs. */
export interface MessageBus {
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
}

/**
 * Change fan-out over PostgreSQL's LISTEN/NOTIFY, for instances that share a database but no
 * Redis. One dedicated connection listens; notifications go out through a short-lived one.
 * @see https://www.postgresql.org/docs/current/sql-notify.html
 */
export async function createPostgresNotifyBus(
  url: string,
  onError: (error: unknown) => void,
): Promise<MessageBus & { close(): Promise<void> }> {
  const listener = new pg.Client({ connectionString: url });
  const publisher = new pg.Pool({ connectionString: url, max: 1 });
  publisher.on('error', onError);
  listener.on('error', onError);
  await listener.connect();
  const handlers = new Map<string, Set<(message: string) => void>>();
  listener.on('notification', (notification) => {
    for (const handler of handlers.get(notification.channel) ?? []) handler(notification.payload ?? '');
  });
  const channelName = (channel: string) => `gatehouse_${channel.replace(/[^a-z0-9_]/gi, '_')}`;
  return {
    async publish(channel, message) {
      await publisher.query('select pg_notify($1, $2)', [channelName(channel), message]);
    },
    async subscribe(channel, handler) {
      const name = channelName(channel);
      if (!handlers.has(name)) {
        handlers.set(name, new Set());
        await listener.query(`LISTEN ${name}`);
      }
      handlers.get(name)?.add(handler);
      return async () => {
        handlers.get(name)?.delete(handler);
      };
    },
    async close() {
      await listener.end();
      await publisher.end();
    },
  };
}
