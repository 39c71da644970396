/**
 * Two builds side by side (`npx tsx bench/compare.ts <other checkout> [<this one>]`, both checkouts
 * built; the second defaults to the one this file is in, which always supplies the mock): one
 * mock upstream, one gateway from each build, the same requests sent to each in short alternating
 * rounds. On a shared machine a run's figures drift by tens of percent from one minute to the
 * next; rounds a second apart see the same drift, so the paired ratio of each round holds still
 * where two separate `npm run bench` runs cannot. Two processes of one build still differ by
 * several percent, so this is done for several fresh pairs of processes, and each pair's figure
 * is shown beside the overall one. See bench/README.md.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configureGateway } from './gateway-setup.js';
import { type Bounds, median, openPool, runLoad, type Samples, summarise } from './measure.js';
import { cpuMicrosOf } from './process-cpu.js';
import { gatewayRequest, SCENARIOS, type Scenario } from './scenarios.js';
import {
  cleanUpOnExit,
  gatewayNodeFlags,
  type RunningGateway,
  startGateway,
  startMockUpstream,
} from './services.js';

const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The scenarios the project's throughput and latency targets are judged on. */
const COMPARED = ['openai chat, non-streaming, c=1', 'openai chat, non-streaming, c=50'];
const WARM_UP: Bounds = { maxRequests: 2_000, maxMilliseconds: 2_000 };
const ROUNDS = 10;
/**
 * Fresh pairs of gateway processes, one after the other (`BENCH_COMPARE_PAIRS`): two processes
 * of one build differ by several percent (JIT and heap layout), more than rounds a second apart.
 */
const PAIRS = Math.max(1, Number(process.env.BENCH_COMPARE_PAIRS ?? 3));
const ROUND: Bounds = { maxRequests: 20_000, maxMilliseconds: 1_000 };

interface Build {
  name: 'baseline' | 'this checkout';
  gateway: RunningGateway;
  virtualKey: string;
}

/** One round's figures for one build. */
interface RoundFigures {
  requestsPerSecond: number;
  p50Micros: number;
  cpuMicrosPerRequest: number | undefined;
}

/** Undo steps, run newest first, on success, error and Ctrl-C alike. */
const cleanups = cleanUpOnExit('the mock upstream and the gateways');

function figuresOf(samples: Samples): RoundFigures {
  if (samples.failed > 0) throw new Error(`${samples.failed} requests failed; the comparison stops`);
  const summary = summarise(samples, false);
  return {
    requestsPerSecond: summary.requestsPerSecond,
    p50Micros: summary.p50Micros,
    cpuMicrosPerRequest: summary.cpuMicrosPerRequest,
  };
}

async function measureScenario(
  scenario: Scenario,
  builds: Build[],
): Promise<Map<Build['name'], RoundFigures[]>> {
  const pools = new Map(
    builds.map((build) => [build.name, openPool(build.gateway.url, scenario.concurrency)]),
  );
  const rounds = new Map<Build['name'], RoundFigures[]>(builds.map((build) => [build.name, []]));
  const load = (build: Build, bounds: Bounds): Promise<Samples> => {
    const pool = pools.get(build.name);
    if (!pool) throw new Error(`no pool for ${build.name}`);
    const shape = gatewayRequest(scenario, build.virtualKey);
    return runLoad(pool, shape, scenario.concurrency, bounds, () => cpuMicrosOf(build.gateway.pid));
  };
  try {
    for (const build of builds) figuresOf(await load(build, WARM_UP));
    for (let round = 0; round < ROUNDS; round += 1) {
      const ordered = round % 2 === 0 ? builds : [...builds].reverse();
      for (const build of ordered) rounds.get(build.name)?.push(figuresOf(await load(build, ROUND)));
    }
  } finally {
    await Promise.all([...pools.values()].map((pool) => pool.close()));
  }
  return rounds;
}

/** One pair of gateway processes' rounds, by build. */
type PairRounds = Map<Build['name'], RoundFigures[]>;

/**
 * Median of the builds' figures, and the median of this checkout's paired ratio (or difference)
 * over every round of every pair, then each pair's own median: pairs differ by more than rounds
 * do (each process is compiled and laid out on its own), so their spread says how far to trust
 * the overall figure.
 */
function report(scenario: Scenario, pairs: PairRounds[]): string[] {
  const pairedValues = (
    rounds: PairRounds,
    pick: (figures: RoundFigures) => number | undefined,
    compare: (a: number, b: number) => number,
  ) => {
    const baseline = rounds.get('baseline') ?? [];
    return (rounds.get('this checkout') ?? []).flatMap((figures, index) => {
      const mine = pick(figures);
      const theirs = baseline[index] ? pick(baseline[index]) : undefined;
      return mine === undefined || theirs === undefined ? [] : [compare(mine, theirs)];
    });
  };
  const paired = (
    pick: (figures: RoundFigures) => number | undefined,
    compare: (a: number, b: number) => number,
    show: (value: number) => string,
  ) => {
    const overall = median(pairs.flatMap((rounds) => pairedValues(rounds, pick, compare)));
    const each = pairs.map((rounds) => show(median(pairedValues(rounds, pick, compare))));
    return `${show(overall)}  (${each.join(' / ')})`;
  };
  const all = (name: Build['name']) => pairs.flatMap((rounds) => rounds.get(name) ?? []);
  const medianOf = (name: Build['name'], pick: (figures: RoundFigures) => number | undefined) =>
    median(all(name).flatMap((figures) => pick(figures) ?? []));
  const percent = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} %`;
  const milliseconds = (micros: number) => `${micros >= 0 ? '+' : ''}${(micros / 1_000).toFixed(3)} ms`;
  const ratio = (a: number, b: number) => a / b;
  const rps = (figures: RoundFigures) => figures.requestsPerSecond;
  const p50 = (figures: RoundFigures) => figures.p50Micros;
  const cpu = (figures: RoundFigures) => figures.cpuMicrosPerRequest;
  const line = (metric: string, theirs: string, mine: string, change: string) =>
    `${scenario.name.padEnd(34)} | ${metric.padEnd(7)} | ${theirs.padStart(10)} | ${mine.padStart(10)} | ${change}`;
  return [
    line(
      'req/s',
      medianOf('baseline', rps).toFixed(0),
      medianOf('this checkout', rps).toFixed(0),
      paired(rps, ratio, percent),
    ),
    line(
      'p50',
      `${(medianOf('baseline', p50) / 1_000).toFixed(3)} ms`,
      `${(medianOf('this checkout', p50) / 1_000).toFixed(3)} ms`,
      paired(p50, (a, b) => a - b, milliseconds),
    ),
    line(
      'CPU/req',
      `${(medianOf('baseline', cpu) / 1_000).toFixed(3)} ms`,
      `${(medianOf('this checkout', cpu) / 1_000).toFixed(3)} ms`,
      paired(cpu, ratio, percent),
    ),
  ];
}

/** Both builds' gateways, started fresh (each with its own embedded data) against one mock. */
async function startBuilds(checkouts: Checkouts, mockUrl: string, pair: number): Promise<Build[]> {
  const builds: Build[] = [];
  const both = [
    ['baseline', checkouts.baseline],
    ['this checkout', checkouts.measured],
  ] as const;
  // Which build starts first swaps from pair to pair: the two processes' places (start order,
  // memory, the core the scheduler favours) are not alike, and must not favour one build.
  for (const [name, checkout] of pair % 2 === 1 ? both : [...both].reverse()) {
    // BENCH_GATEWAY_NODE_FLAGS (--cpu-prof …) applies to both builds: profiles under one paired load.
    const gateway = await startGateway({ name, checkout, nodeFlags: gatewayNodeFlags() });
    // Stopping twice is harmless (the pair's end, then the exit's cleanup): the second finds it gone.
    cleanups.add(() => gateway.stop());
    console.log(`${name}: gateway pid ${gateway.pid}`);
    builds.push({
      name,
      gateway,
      virtualKey: await configureGateway(gateway.url, gateway.adminToken, mockUrl),
    });
  }
  return builds;
}

/** The two builds: the baseline, and the one measured against it. */
interface Checkouts {
  baseline: string;
  measured: string;
}

async function compare(checkouts: Checkouts): Promise<void> {
  const mock = await startMockUpstream(REPOSITORY_ROOT);
  cleanups.add(() => mock.stop());
  // BENCH_SCENARIOS='c=50' narrows the comparison, as it does for `npm run bench`.
  const matcher = new RegExp(process.env.BENCH_SCENARIOS ?? '');
  const compared = SCENARIOS.filter(
    (candidate) => COMPARED.includes(candidate.name) && matcher.test(candidate.name),
  );
  const measured = new Map(compared.map((scenario) => [scenario, [] as PairRounds[]]));
  for (let pair = 1; pair <= PAIRS; pair += 1) {
    console.log(`pair ${pair} of ${PAIRS}`);
    const builds = await startBuilds(checkouts, mock.url, pair);
    for (const scenario of compared) {
      console.log(`measuring ${scenario.name} ...`);
      measured.get(scenario)?.push(await measureScenario(scenario, builds));
    }
    await Promise.all(builds.map((build) => build.gateway.stop()));
  }
  console.log(`baseline ${checkouts.baseline}, this checkout ${checkouts.measured}`);
  const lines = [
    `${'scenario'.padEnd(34)} | metric  |   baseline |       this | this vs baseline (median of ${PAIRS} × ${ROUNDS} paired rounds; each pair's)`,
  ];
  for (const [scenario, pairs] of measured) lines.push(...report(scenario, pairs));
  console.log(`\n${lines.join('\n')}`);
}

const [baselineArgument, measuredArgument] = process.argv.slice(2);
if (!baselineArgument) {
  console.error('usage: npx tsx bench/compare.ts <baseline checkout, built> [<measured checkout, built>]');
  process.exitCode = 2;
} else {
  try {
    await compare({
      baseline: resolve(baselineArgument),
      measured: measuredArgument ? resolve(measuredArgument) : REPOSITORY_ROOT,
    });
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  } finally {
    await cleanups.run();
  }
}
