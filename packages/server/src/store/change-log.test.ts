import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChangeLog } from './change-log.js';
import { type OpenDatabase, openDatabase } from './database.js';
import { changeLog } from './schema.js';

/** The queries are the same on both drivers, so embedded PGlite checks them in every pass. */
let storage: OpenDatabase;

beforeAll(async () => {
  storage = await openDatabase({ kind: 'pglite', dataDir: undefined });
});
afterAll(async () => {
  await storage?.close();
});

describe('the change log', () => {
  it('appends in sequence, reads after a sequence, tells settled rows apart and prunes old ones', async () => {
    const log = createChangeLog(storage.db, { settleMs: 30_000, retentionMs: 3_600_000 });
    expect(await log.latest()).toBe(0);
    const first = await log.append('budgets');
    const second = await log.append('keys-and-policies');
    const third = await log.append('rate-limits');
    expect([second - first, third - second]).toEqual([1, 1]);
    expect(await log.latest()).toBe(third);

    expect(await log.after(first, 10)).toEqual([
      { sequence: second, kind: 'keys-and-policies', settled: false },
      { sequence: third, kind: 'rate-limits', settled: false },
    ]);
    expect((await log.after(0, 1)).map((row) => row.sequence)).toEqual([first]);

    // Age the first row past the settle time and the second past the retention.
    await storage.db.execute(
      sql`update ${changeLog} set created_at = now() - interval '1 minute' where sequence = ${first}`,
    );
    await storage.db.execute(
      sql`update ${changeLog} set created_at = now() - interval '2 hours' where sequence = ${second}`,
    );
    expect((await log.after(0, 10)).map((row) => row.settled)).toEqual([true, true, false]);
    expect(await log.prune()).toBe(1);
    expect((await log.after(0, 10)).map((row) => row.sequence)).toEqual([first, third]);
    expect(await log.latest()).toBe(third);
  });
});
