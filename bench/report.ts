/** Turns per-scenario summaries into the printed table, the target verdicts and the JSON file. */
import type { Summary } from './measure.js';
import type { Scenario } from './scenarios.js';

export interface ScenarioResult {
  scenario: Scenario;
  direct: Summary;
  gateway: Summary;
}

export interface TargetVerdict {
  target: string;
  measured: number;
  limit: number;
  unit: string;
  /** Whether `measured` must stay at most or at least `limit`. */
  comparison: 'at most' | 'at least';
  pass: boolean;
}

interface TableRow {
  scenario: string;
  metric: string;
  direct: string;
  gateway: string;
  added: string;
}

const formatMillis = (micros: number | undefined): string =>
  micros === undefined ? '-' : `${(micros / 1_000).toFixed(3)} ms`;

const formatAddedMillis = (direct: number | undefined, gateway: number | undefined): string =>
  direct === undefined || gateway === undefined ? '-' : `+${((gateway - direct) / 1_000).toFixed(3)} ms`;

function formatAddedRate(direct: number, gateway: number): string {
  const percent = direct > 0 ? ((gateway - direct) / direct) * 100 : 0;
  return `${Math.round(gateway - direct)} (${percent.toFixed(0)}%)`;
}

function rowsFor(result: ScenarioResult): TableRow[] {
  const { scenario, direct, gateway } = result;
  const row = (metric: string, directText: string, gatewayText: string, added: string): TableRow => ({
    scenario: scenario.name,
    metric,
    direct: directText,
    gateway: gatewayText,
    added,
  });
  const rows = [
    row(
      'req/s',
      direct.requestsPerSecond.toFixed(0),
      gateway.requestsPerSecond.toFixed(0),
      formatAddedRate(direct.requestsPerSecond, gateway.requestsPerSecond),
    ),
    row(
      'p50',
      formatMillis(direct.p50Micros),
      formatMillis(gateway.p50Micros),
      formatAddedMillis(direct.p50Micros, gateway.p50Micros),
    ),
    row(
      'p99',
      formatMillis(direct.p99Micros),
      formatMillis(gateway.p99Micros),
      formatAddedMillis(direct.p99Micros, gateway.p99Micros),
    ),
  ];
  // What one request costs the process serving it: the mock direct, the gateway through it.
  rows.push(
    row('CPU/req', formatMillis(direct.cpuMicrosPerRequest), formatMillis(gateway.cpuMicrosPerRequest), '-'),
  );
  // TTFB matters where a person waits for the first token: one request at a time.
  if (scenario.streaming && scenario.concurrency === 1) {
    rows.push(
      row(
        'TTFB p50',
        formatMillis(direct.firstByteP50Micros),
        formatMillis(gateway.firstByteP50Micros),
        formatAddedMillis(direct.firstByteP50Micros, gateway.firstByteP50Micros),
      ),
      row(
        'TTFB p99',
        formatMillis(direct.firstByteP99Micros),
        formatMillis(gateway.firstByteP99Micros),
        formatAddedMillis(direct.firstByteP99Micros, gateway.firstByteP99Micros),
      ),
    );
  }
  return rows;
}

function renderTable(rows: TableRow[]): string {
  const header: TableRow = {
    scenario: 'scenario',
    metric: 'metric',
    direct: 'direct',
    gateway: 'gateway',
    added: 'added',
  };
  const columns = Object.keys(header) as (keyof TableRow)[];
  const widths = columns.map((column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const line = (row: TableRow): string =>
    columns.map((column, index) => row[column].padEnd(widths[index] ?? 0)).join(' | ');
  const separator = widths.map((width) => '-'.repeat(width)).join('-|-');
  return [line(header), separator, ...rows.map(line)].join('\n');
}

export function renderResults(results: ScenarioResult[]): string {
  return renderTable(results.flatMap(rowsFor));
}

function findResult(results: ScenarioResult[], name: string): ScenarioResult | undefined {
  return results.find((result) => result.scenario.name === name);
}

const addedFirstByte = (result: ScenarioResult): number =>
  (result.gateway.firstByteP50Micros ?? Number.NaN) - (result.direct.firstByteP50Micros ?? Number.NaN);

/** One target: the scenario it is judged on and how the figure is read from it. */
interface TargetRule extends Omit<TargetVerdict, 'pass' | 'measured'> {
  scenario: string;
  measure(result: ScenarioResult): number;
}

const TARGETS: TargetRule[] = [
  {
    target: 'added p50 latency, openai non-streaming, c=1',
    scenario: 'openai chat, non-streaming, c=1',
    measure: (result) => result.gateway.p50Micros - result.direct.p50Micros,
    limit: 400,
    unit: 'µs',
    comparison: 'at most',
  },
  {
    target: 'gateway throughput, openai non-streaming, c=50',
    scenario: 'openai chat, non-streaming, c=50',
    measure: (result) => result.gateway.requestsPerSecond,
    limit: 2_500,
    unit: 'req/s',
    comparison: 'at least',
  },
  {
    target: 'added TTFB p50, openai streaming, c=1',
    scenario: 'openai chat, streaming, c=1',
    measure: addedFirstByte,
    limit: 1_000,
    unit: 'µs',
    comparison: 'at most',
  },
  {
    target: 'added TTFB p50, anthropic streaming, c=1',
    scenario: 'anthropic messages, streaming, c=1',
    measure: addedFirstByte,
    limit: 1_000,
    unit: 'µs',
    comparison: 'at most',
  },
];

/**
 * The project's performance targets, each judged on its scenario; a target whose scenario was
 * not measured (`BENCH_SCENARIOS`) is left out.
 */
export function judgeTargets(results: ScenarioResult[]): TargetVerdict[] {
  const failed = results.reduce((sum, result) => sum + result.direct.failed + result.gateway.failed, 0);
  const verdicts: Omit<TargetVerdict, 'pass'>[] = [];
  for (const { scenario, measure, ...rule } of TARGETS) {
    const result = findResult(results, scenario);
    if (result) verdicts.push({ ...rule, measured: measure(result) });
  }
  verdicts.push({
    target: 'failed requests, all scenarios',
    measured: failed,
    limit: 0,
    unit: 'requests',
    comparison: 'at most',
  });
  return verdicts.map((verdict) => ({
    ...verdict,
    pass:
      verdict.comparison === 'at least'
        ? verdict.measured >= verdict.limit
        : verdict.measured <= verdict.limit,
  }));
}

export function renderVerdicts(verdicts: TargetVerdict[]): string {
  return verdicts
    .map((verdict) => {
      const mark = verdict.pass ? 'PASS' : 'FAIL';
      const measured = Number.isInteger(verdict.measured) ? verdict.measured : verdict.measured.toFixed(0);
      return `${mark}  ${verdict.target}: ${measured} ${verdict.unit} (target: ${verdict.comparison} ${verdict.limit} ${verdict.unit})`;
    })
    .join('\n');
}
