/**
 * Write-ahead usage spool benchmark (`npx tsx bench/usage-spool.ts`, after `npm run build`): what
 * the spool costs, without the gateway around it. Calls arrive at a steady rate, as they finish
 * in a busy gateway, and each appends its event; measured are the wait until the event is on disk
 * (what a budget settle waits for, after the answer went out), how many syncs the calls needed,
 * and the CPU they took: this process's (the write, the sync on libuv's pool) and the whole
 * machine's (the file system's journal commits run in kernel threads of their own). Each rate
 * runs with the default commit window and with none (a sync as soon as the one before is done).
 * The temporary directory is on the same disk as a default data dir (`os.tmpdir()`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageSpool } from '../packages/server/dist/store/usage-spool.js';

/** Bounds: each steady scenario runs this long; the quiet-spell one makes this many calls. */
const STEADY_MS = 2_000;
const QUIET_CALLS = 100;

/** A usage event's JSON is about this long. */
const LINE = JSON.stringify({ requestId: 'req_x', padding: 'x'.repeat(600) });

/** The spool's own default window, and none at all (the build before the window). */
const WINDOWS: { name: string; commitIntervalMs: number | undefined }[] = [
  { name: 'default window', commitIntervalMs: undefined },
  { name: 'no window', commitIntervalMs: 0 },
];

/** Calls per millisecond: one sequential client, and the c=50 bench's throughput. */
const RATES = [1, 3];

interface Measured {
  waits: number[];
  /** Distinct commits the calls waited for; undefined for the control, which has none. */
  syncs: number | undefined;
  /** Undefined where idle time between calls would count the machine's noise, not the spool. */
  processCpuMicros: number | undefined;
  machineCpuMicros: number | undefined;
}

function percentile(sorted: number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? Number.NaN;
}

/** Busy CPU time of the whole machine so far (`/proc/stat`), or undefined where it is not there. */
function machineBusyMicros(): number | undefined {
  try {
    const [cpuLine] = readFileSync('/proc/stat', 'utf8').split('\n');
    const ticks = (cpuLine ?? '').trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: idle and iowait are not work.
    const busy = ticks.reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0);
    return Number.isFinite(busy) ? busy * 10_000 : undefined;
  } catch {
    return undefined;
  }
}

function report(name: string, measured: Measured): void {
  const calls = measured.waits.length;
  const sorted = [...measured.waits].sort((left, right) => left - right);
  const perCall = (micros: number | undefined) =>
    micros === undefined ? '-' : `${(micros / calls).toFixed(1)} µs`;
  console.log(
    [
      name.padEnd(40),
      `calls ${String(calls).padStart(5)}`,
      `wait p50 ${percentile(sorted, 0.5).toFixed(3)} ms`,
      `p99 ${percentile(sorted, 0.99).toFixed(3)} ms`,
      `syncs per call ${measured.syncs === undefined ? '-' : (measured.syncs / calls).toFixed(3)}`,
      `CPU per call: process ${perCall(measured.processCpuMicros)}`,
      `machine ${perCall(measured.machineCpuMicros)}`,
    ].join(' | '),
  );
}

/** Where a call's event goes: the spool, or nowhere (the control: what the loop itself costs). */
type Sink = (line: string) => Promise<void>;

const NO_SPOOL: Sink = () => Promise.resolve();

/** Runs `calls` and measures them; each call appends once and records how long it waited. */
async function measure(sink: Sink, calls: (append: () => Promise<void>) => Promise<void>): Promise<Measured> {
  const waits: number[] = [];
  const batches = new Set<Promise<void>>();
  const pending: Promise<void>[] = [];
  const append = (): Promise<void> => {
    const started = performance.now();
    const done = sink(LINE);
    batches.add(done);
    const waited = done.then(() => {
      waits.push(performance.now() - started);
    });
    pending.push(waited);
    return waited;
  };
  const cpuBefore = process.cpuUsage();
  const machineBefore = machineBusyMicros();
  await calls(append);
  await Promise.all(pending);
  const cpu = process.cpuUsage(cpuBefore);
  const machineAfter = machineBusyMicros();
  return {
    waits,
    syncs: sink === NO_SPOOL ? undefined : batches.size,
    processCpuMicros: cpu.user + cpu.system,
    machineCpuMicros:
      machineBefore === undefined || machineAfter === undefined ? undefined : machineAfter - machineBefore,
  };
}

/** `perMillisecond` appends every millisecond for `STEADY_MS`, none waiting for another. */
function steady(perMillisecond: number) {
  return async (append: () => Promise<void>): Promise<void> => {
    const deadline = performance.now() + STEADY_MS;
    while (performance.now() < deadline) {
      for (let call = 0; call < perMillisecond; call++) void append();
      await sleep(1);
    }
  };
}

/** Calls far enough apart that no window is open when they arrive. */
function quiet(gapMs: number) {
  return async (append: () => Promise<void>): Promise<void> => {
    for (let call = 0; call < QUIET_CALLS; call++) {
      await append();
      await sleep(gapMs);
    }
  };
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'gatehouse-spool-bench-'));
  try {
    // Unreported: lets the JIT settle and the file exist before anything counts.
    await measure(NO_SPOOL, steady(3));
    for (const rate of RATES)
      report(`no spool (control): ${rate * 1_000} calls/s`, await measure(NO_SPOOL, steady(rate)));
    for (const window of WINDOWS) {
      const spool = new UsageSpool(join(folder, 'usage-spool.jsonl'), {
        commitIntervalMs: window.commitIntervalMs,
      });
      await spool.open();
      const sink: Sink = (line) => spool.append(line);
      try {
        await measure(sink, quiet(25));
        await spool.release(spool.seal());
        if (window.commitIntervalMs === undefined) {
          const alone = await measure(sink, quiet(25));
          report(`${window.name}: one call after a quiet spell`, {
            ...alone,
            processCpuMicros: undefined,
            machineCpuMicros: undefined,
          });
          await spool.release(spool.seal());
        }
        for (const rate of RATES) {
          report(`${window.name}: ${rate * 1_000} calls/s`, await measure(sink, steady(rate)));
          await spool.release(spool.seal());
        }
      } finally {
        await spool.close();
      }
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
