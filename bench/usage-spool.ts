/**
 * Write-ahead usage spool benchmark (`npx tsx bench/usage-spool.ts`, after `npm run build`): what
 * waiting for the spool's sync costs a call before its budget settle, alone (one call per tick,
 * one fdatasync each) and under load (50 calls finishing in the same tick share one sync). The
 * temporary directory is on the same disk as a default data dir (`os.tmpdir()`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UsageSpool } from '../packages/server/dist/store/usage-spool.js';

/** Bounds: calls per scenario, and the whole run. */
const SEQUENTIAL_CALLS = 2_000;
const GROUPS = 200;
const GROUP_SIZE = 50;
const MAX_RUN_MS = 60_000;

/** A usage event's JSON is about this long. */
const LINE = JSON.stringify({ requestId: 'req_x', padding: 'x'.repeat(600) });

function percentile(sorted: number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? Number.NaN;
}

function summary(name: string, samples: number[], callsPerSample: number): void {
  const sorted = [...samples].sort((left, right) => left - right);
  const p50 = percentile(sorted, 0.5).toFixed(3);
  const p99 = percentile(sorted, 0.99).toFixed(3);
  const syncsPerCall = (1 / callsPerSample).toFixed(3);
  console.log(`${name.padEnd(44)} | wait p50 ${p50} ms | p99 ${p99} ms | syncs per call ${syncsPerCall}`);
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'gatehouse-spool-bench-'));
  const spool = new UsageSpool(join(folder, 'usage-spool.jsonl'));
  await spool.open();
  const deadline = performance.now() + MAX_RUN_MS;
  try {
    const alone: number[] = [];
    for (let call = 0; call < SEQUENTIAL_CALLS && performance.now() < deadline; call++) {
      const started = performance.now();
      await spool.append(LINE);
      alone.push(performance.now() - started);
    }
    summary('one call per tick (c=1)', alone, 1);

    const grouped: number[] = [];
    for (let group = 0; group < GROUPS && performance.now() < deadline; group++) {
      const started = performance.now();
      await Promise.all(Array.from({ length: GROUP_SIZE }, () => spool.append(LINE)));
      grouped.push(performance.now() - started);
      if (group % 20 === 19) await spool.truncate();
    }
    summary(`${GROUP_SIZE} calls finishing in one tick (c=${GROUP_SIZE})`, grouped, GROUP_SIZE);
  } finally {
    await spool.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
