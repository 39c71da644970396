import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageSpool } from './usage-spool.js';

/** How many of the next `open` calls fail, as with too many open files. */
const failingOpens = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof actual.open = (...args) => {
    if (failingOpens.count === 0) return actual.open(...args);
    failingOpens.count -= 1;
    return Promise.reject(Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' }));
  };
  return { ...actual, open };
});

const folders: string[] = [];
const spools: UsageSpool[] = [];

/** A spool in a fresh folder; the window is long enough that a test can act inside it. */
async function openSpool(
  commitIntervalMs: number,
  options: { sync?: boolean; segmentBytes?: number } = {},
): Promise<UsageSpool> {
  const folder = mkdtempSync(join(tmpdir(), 'gatehouse-spool-'));
  folders.push(folder);
  const spool = new UsageSpool(join(folder, 'usage-spool.jsonl'), { commitIntervalMs, ...options });
  await spool.open();
  spools.push(spool);
  return spool;
}

const linesOf = (spool: UsageSpool): string[] => readFileSync(spool.path, 'utf8').split('\n').filter(Boolean);
const filesOf = (spool: UsageSpool): string[] => readdirSync(dirname(spool.path)).sort();

afterEach(async () => {
  vi.restoreAllMocks();
  for (const spool of spools.splice(0)) await spool.close();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('usage spool', () => {
  it('commits an append after a quiet spell at once, without waiting for the window', async () => {
    // A window longer than the test's timeout: the append resolves only if it is not held back.
    const spool = await openSpool(600_000);
    await spool.append('{"requestId":"req_1"}');
    expect(linesOf(spool)).toEqual(['{"requestId":"req_1"}']);
  });

  it('gathers the appends of later ticks into one commit while the window is open', async () => {
    const spool = await openSpool(200);
    await spool.append('a');
    // Right after a commit, the next one waits for the window; appends meanwhile join it.
    const b = spool.append('b');
    await nextTurn();
    const c = spool.append('c');
    await nextTurn();
    const d = spool.append('d');
    expect(c).toBe(b);
    expect(d).toBe(b);
    expect(linesOf(spool)).toEqual(['a']);
    await d;
    expect(linesOf(spool)).toEqual(['a', 'b', 'c', 'd']);
    expect(spool.durable()).toBe(d);
  });

  it('seals what was appended before, keeps later lines in the next file, and removes the sealed on release', async () => {
    const spool = await openSpool(200, { segmentBytes: 1 });
    await spool.append('a');
    const waiting = spool.append('b');
    const mark = spool.seal();
    const after = spool.append('c');
    expect(after).not.toBe(waiting);
    await Promise.all([waiting, after]);
    // The seal covered what was appended before it, and nothing later.
    expect(filesOf(spool)).toEqual(['usage-spool.jsonl', 'usage-spool.jsonl.0']);
    expect(readFileSync(`${spool.path}.0`, 'utf8')).toBe('a\nb\n');
    expect(linesOf(spool)).toEqual(['c']);
    // Nothing appended since: a second seal is the same mark and starts no empty segment.
    const second = spool.seal();
    expect(spool.seal()).toBe(second);
    await spool.release(mark);
    expect(filesOf(spool)).toEqual(['usage-spool.jsonl', 'usage-spool.jsonl.1']);
    await spool.release(second);
    expect(filesOf(spool)).toEqual(['usage-spool.jsonl']);
    expect(linesOf(spool)).toEqual([]);
  });

  it('starts a new file only once the current one holds a segment, and clear() empties it all', async () => {
    const spool = await openSpool(0, { segmentBytes: 4 });
    await spool.append('a');
    spool.seal();
    await spool.append('b');
    expect(filesOf(spool)).toEqual(['usage-spool.jsonl']);
    spool.seal();
    await spool.append('c');
    expect(filesOf(spool)).toEqual(['usage-spool.jsonl', 'usage-spool.jsonl.0']);
    expect(linesOf(spool)).toEqual(['c']);
    const cleared = spool.clear();
    const after = spool.append('d');
    await Promise.all([cleared, after]);
    // The clear covered what was appended before it was asked for, and nothing later.
    expect(filesOf(spool)).toEqual(['usage-spool.jsonl']);
    expect(linesOf(spool)).toEqual(['d']);
  });

  it('hands back a spool too long to pass as arguments, as after a long outage', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gatehouse-spool-'));
    folders.push(folder);
    const path = join(folder, 'usage-spool.jsonl');
    writeFileSync(`${path}.0`, 'x\n'.repeat(300_000));
    writeFileSync(path, 'y\n');
    const spool = new UsageSpool(path, { commitIntervalMs: 0 });
    spools.push(spool);
    const lines = await spool.open();
    expect(lines).toHaveLength(300_001);
    expect(lines.at(-1)).toBe('y');
  });

  it('keeps the lines in the current file when it cannot start a new one, and a later seal takes them', async () => {
    const spool = await openSpool(0, { segmentBytes: 1 });
    await spool.append('a');
    failingOpens.count = 1;
    const mark = spool.seal();
    await spool.append('b');
    // The rotation failed: nothing was sealed, so releasing its mark removes nothing.
    await spool.release(mark);
    expect(filesOf(spool)).toEqual(['usage-spool.jsonl']);
    expect(linesOf(spool)).toEqual(['a', 'b']);
    const next = spool.seal();
    await spool.append('c');
    expect(readFileSync(`${spool.path}.${next}`, 'utf8')).toBe('a\nb\n');
    expect(linesOf(spool)).toEqual(['c']);
  });

  it('hands back what an earlier run left, oldest first, and removes it with the first release', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gatehouse-spool-'));
    folders.push(folder);
    const path = join(folder, 'usage-spool.jsonl');
    // A replay file from before segments, two sealed segments, and a last file torn by a crash.
    writeFileSync(`${path}.replaying`, 'r\n');
    writeFileSync(`${path}.10`, 'y\n');
    writeFileSync(`${path}.3`, 'x\n');
    writeFileSync(path, 'z\n{"tor');
    writeFileSync(join(folder, 'usage-spool.jsonl.bak'), 'not a segment\n');
    const spool = new UsageSpool(path, { commitIntervalMs: 0, segmentBytes: 1 });
    spools.push(spool);
    expect(await spool.open()).toEqual(['r', 'x', 'y', 'z', '{"tor']);
    const mark = spool.seal();
    // A new line starts a new file: it never runs into the torn one.
    await spool.append('n');
    expect(linesOf(spool)).toEqual(['n']);
    await spool.release(mark);
    expect(filesOf(spool)).toEqual(['usage-spool.jsonl', 'usage-spool.jsonl.bak']);
    // Numbering goes on after the highest segment left (the torn file took 11).
    spool.seal();
    await spool.append('o');
    expect(filesOf(spool)).toEqual(['usage-spool.jsonl', 'usage-spool.jsonl.12', 'usage-spool.jsonl.bak']);
  });

  it('writes an append still in its window before closing', async () => {
    const spool = await openSpool(200);
    await spool.append('a');
    const waiting = spool.append('b');
    await spool.close();
    spools.splice(0);
    await waiting;
    expect(linesOf(spool)).toEqual(['a', 'b']);
  });

  it('waits for the disk on each commit, unless told the database behind it is not synced', async () => {
    // FileHandle is not exported; its prototype is reached through a handle.
    const folder = mkdtempSync(join(tmpdir(), 'gatehouse-spool-'));
    folders.push(folder);
    const probe = await open(join(folder, 'probe'), 'a');
    const fileHandle = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const syncs = vi.spyOn(fileHandle, 'datasync');
    const synced = await openSpool(0);
    await synced.append('a');
    expect(syncs).toHaveBeenCalledTimes(1);
    const unsynced = await openSpool(0, { sync: false });
    await unsynced.append('b');
    await unsynced.append('c');
    // Written to the operating system all the same, so a process crash loses nothing.
    expect(linesOf(unsynced)).toEqual(['b', 'c']);
    expect(syncs).toHaveBeenCalledTimes(1);
  });
});
