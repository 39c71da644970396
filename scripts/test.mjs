#!/usr/bin/env node
// Runs the whole suite once on embedded PGlite and, when GATEHOUSE_TEST_POSTGRES_URL is set,
// once more on that real PostgreSQL; then prints one summary line for both passes, which CI reads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const postgresUrl = process.env.GATEHOUSE_TEST_POSTGRES_URL;
const passes = [{ name: 'PGlite', env: { GATEHOUSE_TEST_POSTGRES_URL: '' } }];
if (postgresUrl) passes.push({ name: 'PostgreSQL', env: { GATEHOUSE_TEST_POSTGRES_URL: postgresUrl } });

const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log('tests: 0 passed, 1 failed');
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-test-report-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
let anyRunFailed = false;
for (const pass of passes) {
  console.log(`\n── test pass on ${pass.name} ──`);
  const report = join(scratch, `${pass.name}.json`);
  const run = spawnSync(
    'npx',
    [
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit', env: { ...process.env, ...pass.env } },
  );
  try {
    const result = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += result.numPassedTests;
    totals.failed += result.numFailedTests;
    totals.skipped += result.numPendingTests + result.numTodoTests;
    // A file that failed outside its tests (it did not load, or a hook threw) counts as a failure
    // even when none of its tests is marked failed.
    const brokenFiles = result.testResults.filter(
      (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
    );
    totals.failed += brokenFiles.length;
  } catch {
    totals.failed += 1;
  }
  if (run.status !== 0) anyRunFailed = true;
}
rmSync(scratch, { recursive: true, force: true });

const skipped = totals.skipped > 0 ? `, ${totals.skipped} skipped` : '';
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed${skipped}`);
process.exit(anyRunFailed || totals.failed > 0 ? 1 : 0);
