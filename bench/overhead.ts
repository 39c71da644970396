/**
 * Gateway overhead benchmark (`npm run bench`): the same requests straight to the mock upstream and
 * through the gateway, in the same run, and the difference between the two. See bench/README.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configureGateway } from './gateway-setup.js';
import {
  type Bounds,
  emptySamples,
  mergeSamples,
  openPool,
  type RequestShape,
  runLoad,
  type Samples,
  summarise,
} from './measure.js';
import { cpuMicrosOf } from './process-cpu.js';
import type { RunningService } from './processes.js';
import { judgeTargets, renderResults, renderVerdicts, type ScenarioResult } from './report.js';
import { directRequest, gatewayRequest, SCENARIOS, type Scenario } from './scenarios.js';
import {
  cleanUpOnExit,
  gatewayNodeFlags,
  type RunningGateway,
  startGateway,
  startMockUpstream,
} from './services.js';

const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_FILE = fileURLToPath(new URL('./results/overhead-latest.json', import.meta.url));

/** Warm-up lets the JIT, the key cache and keep-alive connections settle before anything counts. */
const WARM_UP: Bounds = { maxRequests: 2_000, maxMilliseconds: 2_000 };
/**
 * Each target is measured in several short rounds, alternating which target goes first, so a burst
 * of machine noise lands on both sides instead of skewing one.
 */
const ROUNDS = 4;
const ROUND: Bounds = { maxRequests: 20_000, maxMilliseconds: 1_000 };

/** Undo steps, run newest first, on success, error and Ctrl-C alike. */
const cleanups = cleanUpOnExit('the mock upstream and the gateway');

function registerForCleanup<Service extends RunningService>(service: Service): Service {
  cleanups.add(() => service.stop());
  return service;
}

interface Target {
  name: 'direct' | 'gateway';
  /** The process that answers this target's requests: the mock direct, the gateway through it. */
  server: RunningService;
  shape: RequestShape;
}

interface Services {
  mock: RunningService;
  gateway: RunningGateway;
}

async function startServices(): Promise<Services> {
  // One after the other: if the first fails to start, nothing is left running unregistered.
  const mock = registerForCleanup(await startMockUpstream(REPOSITORY_ROOT));
  const gateway = registerForCleanup(
    await startGateway({ name: 'gateway', checkout: REPOSITORY_ROOT, nodeFlags: gatewayNodeFlags() }),
  );
  return { mock, gateway };
}

/** Fails fast with the response text when a target is misconfigured, instead of timing errors. */
async function checkTargetAnswers(target: Target): Promise<void> {
  const response = await fetch(`${target.server.url}${target.shape.path}`, {
    method: 'POST',
    headers: target.shape.headers,
    body: target.shape.body,
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`${target.name} ${target.shape.path} answered ${response.status}: ${text.slice(0, 500)}`);
  }
}

async function measureScenario(scenario: Scenario, targets: Target[]): Promise<ScenarioResult> {
  const pools = new Map(
    targets.map((target) => [target.name, openPool(target.server.url, scenario.concurrency)]),
  );
  const merged = new Map<Target['name'], Samples>(targets.map((target) => [target.name, emptySamples()]));
  const load = (target: Target, bounds: Bounds): Promise<Samples> => {
    const pool = pools.get(target.name);
    if (!pool) throw new Error(`no pool for ${target.name}`);
    return runLoad(pool, target.shape, scenario.concurrency, bounds, () => cpuMicrosOf(target.server.pid));
  };
  try {
    for (const target of targets) {
      await checkTargetAnswers(target);
      await load(target, WARM_UP);
    }
    for (let round = 0; round < ROUNDS; round += 1) {
      const ordered = round % 2 === 0 ? targets : [...targets].reverse();
      for (const target of ordered) {
        const samples = merged.get(target.name);
        if (samples) mergeSamples(samples, await load(target, ROUND));
      }
    }
  } finally {
    await Promise.all([...pools.values()].map((pool) => pool.close()));
  }
  const summaryOf = (name: Target['name']) =>
    summarise(merged.get(name) ?? emptySamples(), scenario.streaming);
  return { scenario, direct: summaryOf('direct'), gateway: summaryOf('gateway') };
}

async function runBenchmark(): Promise<void> {
  const startedAt = new Date();
  const services = await startServices();
  const virtualKey = await configureGateway(
    services.gateway.url,
    services.gateway.adminToken,
    services.mock.url,
  );
  console.log(`mock upstream ${services.mock.url}, gateway ${services.gateway.url}`);

  const results: ScenarioResult[] = [];
  for (const scenario of selectedScenarios()) {
    console.log(`measuring ${scenario.name} ...`);
    const targets: Target[] = [
      { name: 'direct', server: services.mock, shape: directRequest(scenario) },
      { name: 'gateway', server: services.gateway, shape: gatewayRequest(scenario, virtualKey) },
    ];
    results.push(await measureScenario(scenario, targets));
  }

  const verdicts = judgeTargets(results);
  console.log(`\n${renderResults(results)}\n\n${renderVerdicts(verdicts)}`);
  await writeResults({ startedAt, results, verdicts });
  console.log(`\nresults written to ${RESULTS_FILE}`);
}

/** `BENCH_SCENARIOS='non-streaming, c=1'` measures only the scenarios whose name matches (a regular expression). */
function selectedScenarios(): Scenario[] {
  const pattern = process.env.BENCH_SCENARIOS;
  if (!pattern) return SCENARIOS;
  const matcher = new RegExp(pattern);
  return SCENARIOS.filter((scenario) => matcher.test(scenario.name));
}

async function writeResults(report: {
  startedAt: Date;
  results: ScenarioResult[];
  verdicts: ReturnType<typeof judgeTargets>;
}): Promise<void> {
  const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' };
  const settings = { warmUp: WARM_UP, rounds: ROUNDS, round: ROUND };
  const { startedAt, results, verdicts } = report;
  const document = { startedAt: startedAt.toISOString(), machine, settings, results, verdicts };
  await mkdir(join(RESULTS_FILE, '..'), { recursive: true });
  await writeFile(RESULTS_FILE, `${JSON.stringify(document, null, 2)}\n`);
}

try {
  await runBenchmark();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanups.run();
}
