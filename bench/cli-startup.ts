/**
 * How fast `gatehouse` answers: `--help`, and the wrapper's own start-up before it hands over
 * to a tool (`gatehouse claude` with a stand-in `claude` that exits at once, signed in against
 * nothing: the key is fresh, so no network call is made). Each command runs 30 times after 3
 * warm-ups; the median and p90 wall times are compared with a bare `node -e ''` in the same run.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNS = 30;
const WARMUPS = 3;
const cli = join(import.meta.dirname, '..', 'packages', 'cli', 'dist', 'bin.js');
const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-cli-bench-'));

function timeRuns(args: string[], env: NodeJS.ProcessEnv): { medianMs: number; p90Ms: number } {
  const samples: number[] = [];
  for (let run = 0; run < WARMUPS + RUNS; run++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { env, stdio: 'ignore' });
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
    if (run >= WARMUPS) samples.push(elapsedMs);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[Math.floor(RUNS / 2)] ?? 0, p90Ms: samples[Math.floor(RUNS * 0.9)] ?? 0 };
}

try {
  // A signed-in home whose key has a day left, and a `claude` that exits 0 at once.
  const home = join(scratch, 'home');
  const bin = join(scratch, 'bin');
  mkdirSync(home);
  mkdirSync(bin);
  writeFileSync(
    join(home, 'credentials.json'),
    JSON.stringify({
      server: 'http://127.0.0.1:9',
      key: 'gth_benchbenchbenchbenchbenchbenchbenchbe',
      keyExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      savedAt: new Date().toISOString(),
    }),
    { mode: 0o600 },
  );
  writeFileSync(join(bin, 'claude'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(bin, 'claude'), 0o755);
  const env = {
    ...process.env,
    GATEHOUSE_HOME: home,
    PATH: `${bin}:${process.env.PATH}`,
    GATEHOUSE_KEYCHAIN: 'off',
  };

  const rows = [
    { command: "node -e ''", ...timeRuns(['-e', ''], env) },
    { command: 'gatehouse --help', ...timeRuns([cli, '--help'], env) },
    // The budget pre-check's call to the (absent) server fails fast and is skipped, as designed.
    { command: 'gatehouse claude (to exit)', ...timeRuns([cli, 'claude'], env) },
  ];
  console.log('command                      median     p90');
  for (const row of rows) {
    console.log(
      `${row.command.padEnd(28)} ${row.medianMs.toFixed(1).padStart(6)} ms ${row.p90Ms.toFixed(1).padStart(6)} ms`,
    );
  }
  const help = rows[1]?.medianMs ?? Number.POSITIVE_INFINITY;
  console.log(
    `\ntarget: gatehouse --help median under 200 ms: ${help < 200 ? 'PASS' : 'FAIL'} (${help.toFixed(1)} ms)`,
  );
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(
    join(import.meta.dirname, 'results', 'cli-startup-latest.json'),
    `${JSON.stringify({ runs: RUNS, rows }, null, 2)}\n`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
