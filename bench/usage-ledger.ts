/**
 * Usage ledger benchmark (`npx tsx bench/usage-ledger.ts [<checkout> ...]`, each checkout built):
 * what writing usage costs a gateway on embedded PGlite, without the gateway around it. Events
 * arrive at a steady rate, as calls finish in a busy gateway, into a ledger with its spool (not
 * synced, as on PGlite) in a fresh data dir, and the process's CPU per event is reported, user
 * and system apart (creating and removing spool files costs system time). With several
 * checkouts, each round runs every build once, in turn, each in a fresh process; the medians
 * over the rounds are shown, since a shared machine's drift hits neighbouring runs alike.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { median } from './measure.js';

const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Events per second, and how long each run records them. */
const RATE = 3_000;
const RUN_MS = 6_000;
const WARM_UP_EVENTS = 2_000;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));

/** One run's figures, printed by the child as one JSON line. */
interface RunFigures {
  events: number;
  userMicrosPerEvent: number;
  systemMicrosPerEvent: number;
  spoolFiles: number;
}

/** The child: one build's ledger at the steady rate. */
async function runOnce(checkout: string): Promise<RunFigures> {
  const store = `${checkout}/packages/server/dist/store`;
  const { openDatabase } = (await import(
    `${store}/database.js`
  )) as typeof import('../packages/server/dist/store/database.js');
  const { UsageLedger } = (await import(
    `${store}/usage-ledger.js`
  )) as typeof import('../packages/server/dist/store/usage-ledger.js');
  const folder = mkdtempSync(join(tmpdir(), 'gatehouse-ledger-bench-'));
  try {
    const storage = await openDatabase({ kind: 'pglite', dataDir: folder });
    const ledger = new UsageLedger(storage.db, {
      flushIntervalMs: 1_000,
      spoolPath: join(folder, 'usage-spool.jsonl'),
      spoolSync: false,
    });
    await ledger.start();
    let sequence = 0;
    const record = () =>
      void ledger.record({
        requestId: `req_${sequence++}`,
        organizationId: 'org_default',
        projectId: 'proj_1',
        principalId: 'vk_1',
        keyId: 'vk_1',
        api: 'openai-chat',
        model: 'gpt-4o',
        status: 200,
        streamed: false,
        inputTokens: 12,
        outputTokens: 5,
        costUsd: 0.0001,
        latencyMs: 3,
        clientTool: 'claude-code',
        createdAt: new Date(),
      });
    for (let index = 0; index < WARM_UP_EVENTS; index++) record();
    await ledger.flush();
    const before = process.cpuUsage();
    const started = performance.now();
    let recorded = 0;
    // Bounded by time: each millisecond, the events due by then.
    while (performance.now() - started < RUN_MS) {
      const due = Math.floor(((performance.now() - started) / 1_000) * RATE);
      for (; recorded < due; recorded++) record();
      await sleep(1);
    }
    const used = process.cpuUsage(before);
    const spoolFiles = readdirSync(folder).filter((name) => name.startsWith('usage-spool')).length;
    await ledger.close();
    await storage.close();
    return {
      events: recorded,
      userMicrosPerEvent: used.user / recorded,
      systemMicrosPerEvent: used.system / recorded,
      spoolFiles,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function runChild(checkout: string): RunFigures {
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--child', checkout],
    {
      encoding: 'utf8',
      timeout: RUN_MS * 10,
    },
  );
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !line.startsWith('{'))
    throw new Error(`run of ${checkout} failed: ${child.stderr}`);
  return JSON.parse(line) as RunFigures;
}

async function main(): Promise<void> {
  const [flag, childCheckout] = process.argv.slice(2);
  if (flag === '--child' && childCheckout) {
    console.log(JSON.stringify(await runOnce(childCheckout)));
    return;
  }
  const checkouts =
    process.argv.length > 2 ? process.argv.slice(2).map((path) => resolve(path)) : [REPOSITORY_ROOT];
  const runs = new Map(checkouts.map((checkout) => [checkout, [] as RunFigures[]]));
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`round ${round} of ${ROUNDS}`);
    for (const checkout of round % 2 === 1 ? checkouts : [...checkouts].reverse())
      runs.get(checkout)?.push(runChild(checkout));
  }
  console.log(`\n${RATE} events/s for ${RUN_MS / 1_000} s, medians of ${ROUNDS} runs (µs of CPU per event)`);
  for (const [checkout, figures] of runs) {
    const user = median(figures.map((figure) => figure.userMicrosPerEvent));
    const system = median(figures.map((figure) => figure.systemMicrosPerEvent));
    const files = Math.max(...figures.map((figure) => figure.spoolFiles));
    console.log(
      `${checkout}: user ${user.toFixed(1)}, system ${system.toFixed(1)}, total ${(user + system).toFixed(1)}; at most ${files} spool files at the end`,
    );
  }
}

await main();
