import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageSpool } from './usage-spool.js';

const folders: string[] = [];
const spools: UsageSpool[] = [];

/** A spool in a fresh folder; the window is long enough that a test can act inside it. */
async function openSpool(commitIntervalMs: number, sync?: boolean): Promise<UsageSpool> {
  const folder = mkdtempSync(join(tmpdir(), 'gatehouse-spool-'));
  folders.push(folder);
  const spool = new UsageSpool(join(folder, 'usage-spool.jsonl'), { commitIntervalMs, sync });
  await spool.open();
  spools.push(spool);
  return spool;
}

const linesOf = (spool: UsageSpool): string[] => readFileSync(spool.path, 'utf8').split('\n').filter(Boolean);

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

  it('writes what waited in the window before a truncation, and what came after it after', async () => {
    const spool = await openSpool(200);
    await spool.append('a');
    const waiting = spool.append('b');
    const truncated = spool.truncate();
    const after = spool.append('c');
    expect(after).not.toBe(waiting);
    await Promise.all([waiting, truncated, after]);
    // The truncation covered what was appended before it was asked for, and nothing later.
    expect(linesOf(spool)).toEqual(['c']);
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
    const unsynced = await openSpool(0, false);
    await unsynced.append('b');
    await unsynced.append('c');
    // Written to the operating system all the same, so a process crash loses nothing.
    expect(linesOf(unsynced)).toEqual(['b', 'c']);
    expect(syncs).toHaveBeenCalledTimes(1);
  });
});
