/**
 * How fast `gatehouse` answers: `--help`; the wrapper's own start-up before it hands over to a
 * tool (`gatehouse claude` with a stand-in `claude` that exits at once, signed in against
 * nothing: the key is fresh, so no network call is made); and `gatehouse whoami`, one call to a
 * loopback server, the shape of every `gatehouse admin` command and of a tool's key helper.
 * Each command runs 30 times after 3 warm-ups; the median and p90 wall times are compared with a
 * bare `node -e ''` in the same run.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNS = 30;
const WARMUPS = 3;
const cli = join(import.meta.dirname, '..', 'packages', 'cli', 'dist', 'bin.js');
const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-cli-bench-'));

/** One run's wall time. Spawned without blocking, so the loopback server below can answer. */
function timeRun(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}`));
      else resolve(Number(process.hrtime.bigint() - started) / 1e6);
    });
  });
}

async function timeRuns(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ medianMs: number; p90Ms: number }> {
  const samples: number[] = [];
  for (let run = 0; run < WARMUPS + RUNS; run++) {
    const elapsedMs = await timeRun(args, env);
    if (run >= WARMUPS) samples.push(elapsedMs);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[Math.floor(RUNS / 2)] ?? 0, p90Ms: samples[Math.floor(RUNS * 0.9)] ?? 0 };
}

/** Answers `GET /api/auth/cli/whoami` as the server does, and nothing else. */
const whoamiServer = createServer((request, response) => {
  if (request.url !== '/api/auth/cli/whoami') {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      user: { id: 'usr_bench', email: 'bench@example.com', name: null },
      organization: { id: 'org_default', name: 'Default organisation' },
      project: { id: 'proj_bench' },
      key: { id: 'vk_bench', expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
    }),
  );
});
await new Promise<void>((resolve) => whoamiServer.listen(0, '127.0.0.1', resolve));
const whoamiUrl = `http://127.0.0.1:${(whoamiServer.address() as AddressInfo).port}`;

try {
  // A signed-in home whose key has a day left, and a `claude` that exits 0 at once.
  const home = join(scratch, 'home');
  const bin = join(scratch, 'bin');
  mkdirSync(home);
  mkdirSync(bin);
  // The same sign-in twice: against nothing, and against the loopback server for whoami.
  const whoamiHome = join(scratch, 'whoami-home');
  mkdirSync(whoamiHome);
  for (const [where, server] of [
    [home, 'http://127.0.0.1:9'],
    [whoamiHome, whoamiUrl],
  ] as const) {
    writeFileSync(
      join(where, 'credentials.json'),
      JSON.stringify({
        server,
        key: 'gth_benchbenchbenchbenchbenchbenchbenchbe',
        keyExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        savedAt: new Date().toISOString(),
      }),
      { mode: 0o600 },
    );
  }
  writeFileSync(join(bin, 'claude'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(bin, 'claude'), 0o755);
  const env = {
    ...process.env,
    GATEHOUSE_HOME: home,
    PATH: `${bin}:${process.env.PATH}`,
    GATEHOUSE_KEYCHAIN: 'off',
  };

  const rows = [
    { command: "node -e ''", ...(await timeRuns(['-e', ''], env)) },
    { command: 'gatehouse --help', ...(await timeRuns([cli, '--help'], env)) },
    // The budget pre-check's call to the (absent) server fails fast and is skipped, as designed.
    { command: 'gatehouse claude (to exit)', ...(await timeRuns([cli, 'claude'], env)) },
    {
      command: 'gatehouse whoami (loopback)',
      ...(await timeRuns([cli, 'whoami'], { ...env, GATEHOUSE_HOME: whoamiHome })),
    },
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
  whoamiServer.close();
  rmSync(scratch, { recursive: true, force: true });
}
