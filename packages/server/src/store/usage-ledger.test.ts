import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type OpenDatabase, openDatabase } from './database.js';
import { usageEvents } from './schema.js';
import { aggregateUsage, type UsageEventRow, usageRowJson } from './usage-events.js';
import { UsageLedger } from './usage-ledger.js';

function event(requestId: string, inputTokens: number): UsageEventRow {
  return {
    requestId,
    organizationId: 'org_default',
    projectId: 'proj_1',
    principalId: 'vk_1',
    keyId: 'vk_1',
    api: 'openai-chat',
    model: 'gpt-4o',
    status: 200,
    streamed: false,
    inputTokens,
    outputTokens: 1,
    costUsd: 0.5,
    latencyMs: 3,
    createdAt: new Date(),
  };
}

const opened: OpenDatabase[] = [];
const folders: string[] = [];
async function freshDatabase(): Promise<OpenDatabase> {
  const storage = await openDatabase({ kind: 'pglite', dataDir: undefined });
  opened.push(storage);
  return storage;
}
afterEach(async () => {
  for (const storage of opened.splice(0)) await storage.close().catch(() => {});
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

// Each test opens a fresh embedded database (one or two), and PGlite's start-up alone takes 5 to
// 8 s of a loaded CI machine's time: the default 20 s is too close.
describe('usage ledger', { timeout: 60_000 }, () => {
  it('writes events in batches and never twice for one request id', async () => {
    const storage = await freshDatabase();
    const ledger = new UsageLedger(storage.db, { flushIntervalMs: 60_000, batchSize: 3 });
    await ledger.start();
    for (let index = 0; index < 7; index++) ledger.record(event(`req_${index}`, 10));
    ledger.record(event('req_0', 10)); // a retried flush must not count it again
    await ledger.close();
    const [row] = await aggregateUsage(storage.db, 'org_default', { groupBy: 'model' });
    expect(row).toMatchObject({ group: 'gpt-4o', requests: 7, inputTokens: 70, costUsd: 3.5 });
  });

  it('stores every field an event sets, and the schema default for each one it leaves out', async () => {
    const storage = await freshDatabase();
    const ledger = new UsageLedger(storage.db, { flushIntervalMs: 60_000 });
    await ledger.start();
    const full: UsageEventRow = {
      ...event('req_full', 12),
      teamId: 'team_1',
      providerId: 'prov_1',
      providerType: 'openai',
      errorCode: 'upstream_failed',
      model: 'gpt-4o "quoted" \\ \u00e9\u2603\n',
      streamed: true,
      usageEstimated: true,
      cacheReadTokens: 3,
      cacheWriteTokens: 4,
      reasoningTokens: 5,
      costUsd: 0.000123,
      priceSource: 'genai-prices',
      unpriced: true,
      attempts: [{ providerId: 'prov_1', status: 500, latencyMs: 9 }],
      firstByteMs: 7,
      clientTool: 'claude-code',
      createdAt: new Date('2026-12-03T10:00:00.123Z'),
    };
    // Explicit defaults and nulls are left out of the row; the database must still hold them.
    const sparse: UsageEventRow = { ...event('req_sparse', 0), outputTokens: 0, costUsd: 0, teamId: null };
    expect(usageRowJson(sparse)).not.toContain('input_tokens');
    ledger.record(full);
    ledger.record(sparse);
    await ledger.close();
    const rows = await storage.db.select().from(usageEvents).orderBy(usageEvents.sequence);
    expect(rows.map(({ sequence: _sequence, ...row }) => row)).toEqual([
      full,
      {
        ...sparse,
        providerId: null,
        providerType: null,
        errorCode: null,
        usageEstimated: false,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        priceSource: null,
        unpriced: false,
        attempts: [],
        firstByteMs: null,
        clientTool: null,
      },
    ]);
  });

  it('spools what the database could not take at shutdown and replays it at the next start', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gatehouse-ledger-'));
    folders.push(folder);
    const spoolPath = join(folder, 'usage-spool.jsonl');
    const errors: unknown[] = [];

    const failing = await freshDatabase();
    const ledger = new UsageLedger(failing.db, {
      flushIntervalMs: 60_000,
      spoolPath,
      onError: (error) => errors.push(error),
    });
    await ledger.start();
    await failing.close(); // the database goes away with events still pending
    ledger.record(event('req_a', 5));
    ledger.record(event('req_b', 6));
    await ledger.close();
    expect(errors.length).toBeGreaterThan(0);
    expect(existsSync(spoolPath)).toBe(true);

    const healthy = await freshDatabase();
    const next = new UsageLedger(healthy.db, { flushIntervalMs: 60_000, spoolPath });
    await next.start();
    const [row] = await aggregateUsage(healthy.db, 'org_default', { groupBy: 'key' });
    expect(row).toMatchObject({ group: 'vk_1', requests: 2, inputTokens: 11 });
    // Written, so the write-ahead spool holds nothing any more.
    expect(readFileSync(spoolPath, 'utf8')).toBe('');
    expect(existsSync(`${spoolPath}.replaying`)).toBe(false);
    await next.close();
  });

  it('has every event on disk once durable() resolves, before any database write, and replays it after a crash', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gatehouse-ledger-'));
    folders.push(folder);
    const spoolPath = join(folder, 'usage-spool.jsonl');
    const first = await freshDatabase();
    // A flush interval far beyond the test: nothing reaches the database on its own.
    const crashed = new UsageLedger(first.db, { flushIntervalMs: 60_000, spoolPath });
    await crashed.start();
    for (let index = 0; index < 5; index++) crashed.record(event(`req_${index}`, 1));
    await crashed.durable();
    const lines = readFileSync(spoolPath, 'utf8').trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { request_id: string }).request_id)).toEqual([
      'req_0',
      'req_1',
      'req_2',
      'req_3',
      'req_4',
    ]);
    expect(await aggregateUsage(first.db, 'org_default', { groupBy: 'key' })).toEqual([]);
    // No close(): the process died here. The next start replays the spool, and a flush empties it.
    const healthy = await freshDatabase();
    const next = new UsageLedger(healthy.db, { flushIntervalMs: 60_000, spoolPath });
    await next.start();
    const [row] = await aggregateUsage(healthy.db, 'org_default', { groupBy: 'key' });
    expect(row).toMatchObject({ requests: 5 });
    next.record(event('req_5', 1));
    await next.durable();
    expect(readFileSync(spoolPath, 'utf8')).toContain('req_5');
    await next.flush();
    expect(readFileSync(spoolPath, 'utf8')).toBe('');
    await next.close();
  });

  it('replays a spool an older release wrote, and drops a line a crash tore', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gatehouse-ledger-'));
    folders.push(folder);
    const spoolPath = join(folder, 'usage-spool.jsonl');
    // Before spool lines were insert rows, they were the event keyed by property.
    const older = JSON.stringify(event('req_old', 7));
    const torn = JSON.stringify(event('req_torn', 1)).slice(0, 40);
    writeFileSync(spoolPath, `${older}\n${torn}`);
    const storage = await freshDatabase();
    const faults: unknown[] = [];
    const ledger = new UsageLedger(storage.db, {
      flushIntervalMs: 60_000,
      spoolPath,
      onError: (error) => faults.push(error),
    });
    await ledger.start();
    const [row] = await aggregateUsage(storage.db, 'org_default', { groupBy: 'model' });
    expect(row).toMatchObject({ group: 'gpt-4o', requests: 1, inputTokens: 7, costUsd: 0.5 });
    expect(faults).toHaveLength(1);
    expect(String(faults[0])).toContain('dropped a line that is no usage event');
    expect(String(faults[0])).not.toContain('req_torn');
    await ledger.close();
  });

  it('writes a full batch without chasing what arrives meanwhile, and removes its spool lines while more wait', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gatehouse-ledger-'));
    folders.push(folder);
    const storage = await freshDatabase();
    const spoolPath = join(folder, 'usage-spool.jsonl');
    // A segment of one line: each flush starts a new spool file, as a long busy spell does.
    const ledger = new UsageLedger(storage.db, {
      flushIntervalMs: 60_000,
      batchSize: 10,
      spoolPath,
      spoolSegmentBytes: 1,
    });
    await ledger.start();
    // The tenth event fills a batch and starts a flush; one more arrives while it runs.
    for (let index = 0; index < 10; index++) ledger.record(event(`req_${index}`, 1));
    await ledger.record(event('req_late', 1));
    await vi.waitFor(async () => {
      expect(await aggregateUsage(storage.db, 'org_default', { groupBy: 'key' })).toMatchObject([
        { requests: 10 },
      ]);
      // The written events' segment is gone, though the queue never ran empty.
      expect(readdirSync(folder)).toEqual(['usage-spool.jsonl']);
    });
    expect(ledger.pendingCount).toBe(1);
    expect(readFileSync(spoolPath, 'utf8')).toContain('req_late');
    await ledger.close();
    const [row] = await aggregateUsage(storage.db, 'org_default', { groupBy: 'key' });
    expect(row).toMatchObject({ requests: 11 });
  });

  it('commits the events of one tick with one sync', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gatehouse-ledger-'));
    folders.push(folder);
    const storage = await freshDatabase();
    const ledger = new UsageLedger(storage.db, { flushIntervalMs: 60_000, spoolPath: join(folder, 'spool') });
    await ledger.start();
    const syncs = await Promise.all(
      Array.from({ length: 50 }, (_, index) => ledger.record(event(`req_${index}`, 1))),
    );
    expect(syncs).toHaveLength(50);
    // One batch: every record of the tick got the same promise back.
    const promises = new Set(Array.from({ length: 3 }, (_, index) => ledger.record(event(`x_${index}`, 1))));
    expect(promises.size).toBe(1);
    await ledger.close();
  });
});
