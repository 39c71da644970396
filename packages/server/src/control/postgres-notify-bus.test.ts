import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPostgresNotifyBus } from './postgres-notify-bus.js';

const postgresUrl = process.env.GATEHOUSE_TEST_POSTGRES_URL || undefined;

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return check();
}

describe.skipIf(!postgresUrl)('the LISTEN/NOTIFY bus', () => {
  it('replaces a lost listening connection, listens again and says so', async () => {
    const url = postgresUrl as string;
    // A channel of this test's own, so the connection to cut can be found by its last statement.
    const channel = `probe_${randomBytes(4).toString('hex')}`;
    const bus = await createPostgresNotifyBus(url, () => {});
    const received: string[] = [];
    let reconnects = 0;
    try {
      await bus.subscribe(channel, (message) => received.push(message));
      bus.onReconnect?.(() => {
        reconnects += 1;
      });
      await bus.publish(channel, 'before');
      expect(await until(() => received.includes('before'), 2_000)).toBe(true);

      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const cut = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
         where query = $1 and pid <> pg_backend_pid()`,
        [`LISTEN gatehouse_${channel}`],
      );
      await admin.end();
      expect(cut.rowCount).toBe(1);

      expect(await until(() => reconnects === 1, 5_000)).toBe(true);
      await bus.publish(channel, 'after');
      expect(await until(() => received.includes('after'), 2_000)).toBe(true);
    } finally {
      await bus.close();
    }
  }, 15_000);
});
