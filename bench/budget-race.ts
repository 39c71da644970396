/**
 * Budget race benchmark (`npm run bench:budget`): three gateway instances sharing PostgreSQL and
 * Redis, 200 concurrent streamed requests against a $1.00 block budget on one key. Shows the
 * settled spend against the limit plus one request's cost, and whether any request was refused
 * while settled + reserved spend was still below 90 % of the budget. See bench/README.md.
 */
import { performance } from 'node:perf_hooks';
import { costOf, type Usage } from '@gatehouse/core';
import { Pool } from 'undici';
import { createRedisHotState, type HotState } from '../packages/server/dist/hot-state/index.js';
import {
  type AdminClient,
  adminClient,
  type Cluster,
  configureProject,
  machine,
  numberField,
  onCleanUp,
  REDIS_URL,
  runMain,
  sleep,
  startCluster,
  stringField,
  writeResults,
} from './cluster.js';

const INSTANCES = 3;
const REQUESTS = 200;
const LIMIT_USD = 1;
const MODEL = 'gpt-4o';
/** What the mock reports for every request: $0.015 at gpt-4o prices ($2.50/M in, $10/M out). */
const USAGE_INPUT_TOKENS = 2_000;
const USAGE_OUTPUT_TOKENS = 1_000;
/**
 * Streamed events are 150 ms apart (about 1.2 s per response): every admitted request holds its
 * reservation while the others are admitted or refused, and its response headers (with the budget
 * remaining after its reservation) arrive long before its body ends.
 */
const EVENT_DELAY_MS = 150;
/** Refusals must only happen once settled + reserved spend is at least this share of the limit. */
const REFUSAL_FLOOR = 0.9;
/** The budget poller runs this long before the burst, so it is warm when refusals start. */
const POLLER_LEAD_MS = 500;

const BOUNDS = {
  /** Each request must have finished by then. */
  requestTimeoutMs: 60_000,
  /** Budget poller during the run. */
  pollMaxSnapshots: 100_000,
  pollMaxMs: 120_000,
  /** Waiting for reservations to settle, and for usage rows to be written. */
  settleMaxMs: 20_000,
  settlePollMs: 100,
};

interface RequestRecord {
  index: number;
  instance: number;
  /** Milliseconds since the burst started (performance.now()). */
  sentAt: number;
  headersAt: number | undefined;
  endedAt: number | undefined;
  status: number | undefined;
  /** `x-gatehouse-budget-remaining-usd` on an admitted request, read after its reservation. */
  remainingUsd: number | undefined;
  /** A complete stream ends with `data: [DONE]`. */
  completeStream: boolean;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  networkError: string | undefined;
}

/** One read of the budget through the admin API, timed from this process. */
interface Snapshot {
  /**
   * `redis`: the shared counter read straight from Redis through the gateway's own hot-state module
   * (`counter()`, the read behind GET /budgets/{id}); `api`: GET /api/admin/budgets/{id} on an
   * instance, whose answer waits behind the burst on the busy gateway.
   */
  source: 'redis' | 'api';
  /** The instance asked (api), or 0 (redis). */
  instance: number;
  /** Milliseconds since the burst started: the read happened somewhere between the two. */
  sentAt: number;
  receivedAt: number;
  spentUsd: number;
  reservedUsd: number;
  /** Settled + reserved. */
  committedUsd: number;
}

/** A user message long enough that the gateway's input estimate (body bytes / 4) covers the usage. */
function requestBody(): string {
  const word = 'budget ';
  const body = (content: string) =>
    JSON.stringify({
      model: MODEL,
      max_tokens: USAGE_OUTPUT_TOKENS,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content }],
    });
  let content = '';
  while (body(content).length < USAGE_INPUT_TOKENS * 4 + 100) content += word;
  return body(content);
}

function usageOf(inputTokens: number, outputTokens: number): Usage {
  return {
    input: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: 0 },
    output: { total: outputTokens, text: outputTokens, reasoning: 0 },
  };
}

async function budgetStatus(admin: AdminClient, budgetId: string) {
  const status = await admin.call('GET', `/budgets/${budgetId}`);
  return { spentUsd: numberField(status, 'spentUsd'), reservedUsd: numberField(status, 'reservedUsd') };
}

/**
 * One loop per instance reading the budget back to back until stopped, bounded in count and time,
 * so that a refusal always has a recent snapshot before it.
 */
function startApiPoller(admins: AdminClient[], budgetId: string, origin: number, snapshots: Snapshot[]) {
  let stopped = false;
  let taken = 0;
  const deadline = performance.now() + BOUNDS.pollMaxMs;
  const loop = async (admin: AdminClient, instance: number): Promise<void> => {
    while (!stopped && taken < BOUNDS.pollMaxSnapshots && performance.now() < deadline) {
      taken += 1;
      const sentAt = performance.now() - origin;
      try {
        const { spentUsd, reservedUsd } = await budgetStatus(admin, budgetId);
        const receivedAt = performance.now() - origin;
        const committedUsd = spentUsd + reservedUsd;
        snapshots.push({ source: 'api', instance, sentAt, receivedAt, spentUsd, reservedUsd, committedUsd });
      } catch (error) {
        console.error('budget poll failed:', error);
        await sleep(50);
      }
    }
  };
  const done = Promise.all(admins.map((admin, index) => loop(admin, index + 1)));
  return stopper(() => {
    stopped = true;
  }, done);
}

/** Reads the shared counter from Redis back to back (sub-millisecond apart), bounded in count and time. */
function startRedisPoller(hotState: HotState, budgetId: string, origin: number, snapshots: Snapshot[]) {
  let stopped = false;
  const deadline = performance.now() + BOUNDS.pollMaxMs;
  const done = (async () => {
    for (
      let taken = 0;
      !stopped && taken < BOUNDS.pollMaxSnapshots && performance.now() < deadline;
      taken++
    ) {
      const sentAt = performance.now() - origin;
      // A `total` budget has one counter, at window start 0.
      const { spentUsd, reservedUsd } = await hotState.counter({ budgetId, windowStart: 0 });
      const receivedAt = performance.now() - origin;
      const committedUsd = spentUsd + reservedUsd;
      snapshots.push({
        source: 'redis',
        instance: 0,
        sentAt,
        receivedAt,
        spentUsd,
        reservedUsd,
        committedUsd,
      });
    }
  })();
  return stopper(() => {
    stopped = true;
  }, done);
}

function stopper(stop: () => void, done: Promise<unknown>) {
  return {
    async stop() {
      stop();
      await done;
    },
  };
}

async function sendOne(
  pool: Pool,
  record: RequestRecord,
  key: string,
  body: string,
  origin: number,
): Promise<void> {
  try {
    const response = await pool.request({
      method: 'POST',
      path: '/api/v1/chat/completions',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
      headersTimeout: BOUNDS.requestTimeoutMs,
      bodyTimeout: BOUNDS.requestTimeoutMs,
    });
    record.headersAt = performance.now() - origin;
    record.status = response.statusCode;
    const remaining = response.headers['x-gatehouse-budget-remaining-usd'];
    if (typeof remaining === 'string') record.remainingUsd = Number(remaining);
    const text = await response.body.text();
    record.endedAt = performance.now() - origin;
    if (response.statusCode === 200) {
      record.completeStream = text.trimEnd().endsWith('data: [DONE]');
    } else {
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string; type?: string; message?: string } };
        record.errorCode = parsed.error?.code ?? parsed.error?.type;
        record.errorMessage = parsed.error?.message;
      } catch {
        record.errorMessage = text.slice(0, 300);
      }
    }
  } catch (error) {
    record.endedAt = performance.now() - origin;
    record.networkError = error instanceof Error ? error.message : String(error);
  }
}

/** Polls until nothing is reserved any more, bounded; returns the last status. */
async function waitForSettled(admin: AdminClient, budgetId: string) {
  const deadline = performance.now() + BOUNDS.settleMaxMs;
  let status = await budgetStatus(admin, budgetId);
  while (status.reservedUsd > 0 && performance.now() < deadline) {
    await sleep(BOUNDS.settlePollMs);
    status = await budgetStatus(admin, budgetId);
  }
  return status;
}

/** Polls the usage ledger until it holds every answered request and the settled spend, bounded. */
async function waitForUsageRows(admin: AdminClient, keyId: string, answered: number, settledUsd: number) {
  const deadline = performance.now() + BOUNDS.settleMaxMs;
  for (;;) {
    const report = await admin.call('GET', '/usage?groupBy=key');
    const rows = Array.isArray(report.rows) ? (report.rows as Record<string, unknown>[]) : [];
    const row = rows.find((candidate) => candidate.group === keyId);
    const requests = row ? numberField(row, 'requests') : 0;
    const costUsd = row ? numberField(row, 'costUsd') : 0;
    // Refused requests are logged too, at $0: wait for every answered request and the spend.
    const complete = requests >= answered && costUsd >= settledUsd - 1e-9;
    if (complete || performance.now() >= deadline) return { requests, costUsd };
    await sleep(BOUNDS.settlePollMs);
  }
}

/** When a refusal is seen: its response headers arrive (the gateway decided it a little before). */
function seenAt(record: RequestRecord): number {
  return record.headersAt ?? record.endedAt ?? record.sentAt;
}

/** The latest snapshot of `source` whose read completed strictly before `at`, or undefined. */
function latestBefore(snapshots: Snapshot[], source: Snapshot['source'], at: number): Snapshot | undefined {
  let found: Snapshot | undefined;
  for (const snapshot of snapshots) {
    if (snapshot.source !== source || snapshot.receivedAt >= at) continue;
    if (found === undefined || snapshot.receivedAt > found.receivedAt) found = snapshot;
  }
  return found;
}

interface RefusalJudgement {
  /** Refusals whose latest earlier snapshot was below the floor (or that had none). */
  early: number;
  /** Refusals followed by a snapshot, read entirely after them, that was still below the floor. */
  provablyEarly: number;
  /** Lowest settled + reserved in the latest snapshot before a refusal. */
  lowestUsd: number;
  /** Largest gap between a refusal and the snapshot it was judged on. */
  oldestMs: number;
}

/**
 * For each refusal, the latest snapshot read before the refusal was seen must show settled +
 * reserved spend at the floor or above. Spend only rises during the burst (settling replaces a
 * reservation by a slightly smaller actual cost), so a snapshot read entirely after a refusal that
 * is still below the floor proves the refusal came too early.
 */
function judgeRefusals(
  refused: RequestRecord[],
  snapshots: Snapshot[],
  source: Snapshot['source'],
  floorUsd: number,
): RefusalJudgement {
  const judgement: RefusalJudgement = {
    early: 0,
    provablyEarly: 0,
    lowestUsd: Number.POSITIVE_INFINITY,
    oldestMs: 0,
  };
  const ofSource = snapshots.filter((snapshot) => snapshot.source === source);
  for (const record of refused) {
    const at = seenAt(record);
    const before = latestBefore(ofSource, source, at);
    const committed = before?.committedUsd ?? 0;
    if (committed < floorUsd - 1e-9) judgement.early += 1;
    judgement.lowestUsd = Math.min(judgement.lowestUsd, committed);
    if (before) judgement.oldestMs = Math.max(judgement.oldestMs, at - before.receivedAt);
    const laterLow = ofSource.some(
      (snapshot) => snapshot.sentAt > at && snapshot.committedUsd < floorUsd - 1e-9,
    );
    if (laterLow) judgement.provablyEarly += 1;
  }
  if (refused.length === 0) judgement.lowestUsd = 0;
  return judgement;
}

/** Keeps the results file small: only the snapshots where the counter changed. */
function thin(snapshots: Snapshot[]): Snapshot[] {
  return snapshots.filter(
    (snapshot, index) => index === 0 || snapshot.committedUsd !== snapshots[index - 1]?.committedUsd,
  );
}

async function warmUp(cluster: Cluster, projectId: string, body: string): Promise<void> {
  // A key without a budget: proves each instance routes to the mock before the measured run.
  const key = await cluster.admin.call('POST', '/virtual-keys', { projectId, name: 'bench-warm-up' });
  for (const gateway of cluster.gateways) {
    const response = await fetch(`${gateway.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stringField(key, 'key')}`, 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`${gateway.name} answered ${response.status} to the warm-up: ${text.slice(0, 500)}`);
    }
  }
}

const usd = (value: number): string => `$${value.toFixed(6)}`;
const verdict = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');

async function runBenchmark(): Promise<void> {
  const startedAt = new Date();
  const cluster = await startCluster({
    instances: INSTANCES,
    mockEnvironment: {
      MOCK_USAGE_INPUT_TOKENS: String(USAGE_INPUT_TOKENS),
      MOCK_USAGE_OUTPUT_TOKENS: String(USAGE_OUTPUT_TOKENS),
      MOCK_EVENT_DELAY_MS: String(EVENT_DELAY_MS),
    },
  });
  console.log(
    `mock upstream ${cluster.mock.url}; gateways ${cluster.gateways.map((gateway) => gateway.url).join(', ')}`,
  );
  const projectId = await configureProject(cluster, [MODEL]);
  const body = requestBody();
  await warmUp(cluster, projectId, body);

  const virtualKey = await cluster.admin.call('POST', '/virtual-keys', { projectId, name: 'bench-budget' });
  const key = stringField(virtualKey, 'key');
  const keyId = stringField(virtualKey, 'id');
  const budget = await cluster.admin.call('POST', '/budgets', {
    name: 'bench race',
    scope: 'key',
    scopeId: keyId,
    limitUsd: LIMIT_USD,
    window: 'total',
    action: 'block',
  });
  const budgetId = stringField(budget, 'id');
  // The warm-up left "no budget" in the other instances' caches; the change fans out within 1 s.
  await sleep(1_500);

  const requestCostUsd = costOf(usageOf(USAGE_INPUT_TOKENS, USAGE_OUTPUT_TOKENS), MODEL, 'openai').costUsd;
  const estimatedInput = Math.ceil(body.length / 4);
  const reservationUsd = costOf(usageOf(estimatedInput, USAGE_OUTPUT_TOKENS), MODEL, 'openai').costUsd;
  console.log(
    `${REQUESTS} concurrent streamed requests, round-robin over ${INSTANCES} instances, against a ` +
      `${usd(LIMIT_USD)} block budget; each costs ${usd(requestCostUsd)} ` +
      `(${USAGE_INPUT_TOKENS} in + ${USAGE_OUTPUT_TOKENS} out), reserves about ${usd(reservationUsd)}`,
  );

  const admins = cluster.gateways.map((gateway) => adminClient(gateway.url, cluster.adminToken));
  const pools = cluster.gateways.map(
    (gateway) =>
      new Pool(gateway.url, {
        connections: Math.ceil(REQUESTS / INSTANCES) + 1,
        pipelining: 1,
        keepAliveTimeout: 60_000,
      }),
  );
  const snapshots: Snapshot[] = [];
  const records: RequestRecord[] = [];
  // The poller starts first, so its connections and the budget lookups are warm when the burst hits.
  const hotState = await createRedisHotState(REDIS_URL);
  onCleanUp(() => hotState.close());
  const origin = performance.now() + POLLER_LEAD_MS;
  const pollers = [
    startRedisPoller(hotState, budgetId, origin, snapshots),
    startApiPoller(admins, budgetId, origin, snapshots),
  ];
  await sleep(POLLER_LEAD_MS);
  try {
    const inFlight: Promise<void>[] = [];
    for (let index = 0; index < REQUESTS; index++) {
      const instance = index % INSTANCES;
      const record: RequestRecord = {
        index,
        instance: instance + 1,
        sentAt: performance.now() - origin,
        headersAt: undefined,
        endedAt: undefined,
        status: undefined,
        remainingUsd: undefined,
        completeStream: false,
        errorCode: undefined,
        errorMessage: undefined,
        networkError: undefined,
      };
      records.push(record);
      inFlight.push(sendOne(pools[instance] as Pool, record, key, body, origin));
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.all(pollers.map((poller) => poller.stop()));
    await Promise.all(pools.map((pool) => pool.close()));
  }
  const burstMs = performance.now() - origin;

  const settled = await waitForSettled(cluster.admin, budgetId);
  const served = records.filter((record) => record.status === 200);
  const refused = records.filter((record) => record.status === 402);
  const other = records.filter((record) => record.status !== 200 && record.status !== 402);
  const ledger = await waitForUsageRows(
    cluster.admin,
    keyId,
    served.length + refused.length,
    settled.spentUsd,
  );

  // A refusal is "seen" when its response headers arrive; the gateway decided it a little before.
  const floorUsd = REFUSAL_FLOOR * LIMIT_USD;
  const redisJudgement = judgeRefusals(refused, snapshots, 'redis', floorUsd);
  const apiJudgement = judgeRefusals(refused, snapshots, 'api', floorUsd);
  const ceilingUsd = LIMIT_USD + requestCostUsd;
  const spendPass = settled.spentUsd <= ceilingUsd + 1e-9;
  const refusalPass = refused.length > 0 && redisJudgement.early === 0;
  const firstRefusal = refused[0];
  const percent = (value: number): string => `${((value / LIMIT_USD) * 100).toFixed(1)} %`;

  console.log(
    `\nanswered in ${(burstMs / 1_000).toFixed(2)} s: ${served.length} served ` +
      `(${served.filter((record) => record.completeStream).length} complete streams), ` +
      `${refused.length} refused with 402, ${other.length} other`,
  );
  if (firstRefusal) console.log(`402 message: ${firstRefusal.errorCode}: ${firstRefusal.errorMessage}`);
  for (const record of other.slice(0, 5)) {
    const reason = record.status ?? record.networkError;
    console.log(
      `  request ${record.index} via instance ${record.instance}: ${reason} ${record.errorMessage ?? ''}`,
    );
  }
  console.log(
    `budget after settling: spent ${usd(settled.spentUsd)}, reserved ${usd(settled.reservedUsd)}; ` +
      `usage ledger for the key: ${ledger.requests} requests, ${usd(ledger.costUsd)}`,
  );
  const fromRedis = snapshots.filter((snapshot) => snapshot.source === 'redis').length;
  console.log(
    `budget snapshots during the run: ${fromRedis} from Redis, ${snapshots.length - fromRedis} through the API`,
  );
  console.log('');
  console.log(
    `settled spend ${usd(settled.spentUsd)} (${percent(settled.spentUsd)}) vs limit + most expensive request ` +
      `${usd(LIMIT_USD)} + ${usd(requestCostUsd)} = ${usd(ceilingUsd)}: ${verdict(spendPass)}`,
  );
  if (refused.length === 0) {
    console.log('no request was refused: the refusal check has nothing to judge: FAIL');
  } else {
    const line = (judgement: RefusalJudgement): string =>
      `lowest ${usd(judgement.lowestUsd)} (${percent(judgement.lowestUsd)}), ` +
      `below 90 %: ${judgement.early} of ${refused.length} refusals, ` +
      `snapshot at most ${judgement.oldestMs.toFixed(1)} ms older than the refusal`;
    console.log(
      `settled + reserved spend at each refusal (latest counter snapshot before it) vs floor ${usd(floorUsd)}:`,
    );
    console.log(`  read from Redis:         ${line(redisJudgement)}: ${verdict(refusalPass)}`);
    console.log(`  read through the API:    ${line(apiJudgement)} (coarser; for reference)`);
    console.log(
      `  snapshots read after a refusal and still below 90 % (would prove an early refusal): ` +
        `${redisJudgement.provablyEarly + apiJudgement.provablyEarly}`,
    );
  }
  if (other.length > 0) console.log(`requests answered neither 200 nor 402: ${other.length}: FAIL`);

  const path = await writeResults('budget-race-latest.json', {
    startedAt: startedAt.toISOString(),
    machine: machine(),
    settings: {
      instances: INSTANCES,
      requests: REQUESTS,
      limitUsd: LIMIT_USD,
      model: MODEL,
      streaming: true,
      usage: { inputTokens: USAGE_INPUT_TOKENS, outputTokens: USAGE_OUTPUT_TOKENS },
      maxTokens: USAGE_OUTPUT_TOKENS,
      requestBodyBytes: body.length,
      eventDelayMs: EVENT_DELAY_MS,
      refusalFloor: REFUSAL_FLOOR,
    },
    figures: {
      burstMs,
      served: served.length,
      completeStreams: served.filter((record) => record.completeStream).length,
      refused: refused.length,
      other: other.length,
      requestCostUsd,
      reservationUsd,
      settledSpendUsd: settled.spentUsd,
      reservedAfterUsd: settled.reservedUsd,
      ceilingUsd,
      ledger,
      refusalCheck: { redis: redisJudgement, api: apiJudgement },
    },
    verdicts: [
      { target: 'settled spend ≤ limit + most expensive request', pass: spendPass },
      { target: 'no refusal while settled + reserved < 90 % of the limit', pass: refusalPass },
      { target: 'every request answered 200 or 402', pass: other.length === 0 },
    ],
    requests: records,
    refusals: refused.map((record) => ({
      index: record.index,
      instance: record.instance,
      seenAt: seenAt(record),
      redis: latestBefore(snapshots, 'redis', seenAt(record)) ?? null,
      api: latestBefore(snapshots, 'api', seenAt(record)) ?? null,
    })),
    snapshots: snapshots.filter((snapshot) => snapshot.source === 'api'),
    redisSnapshots: thin(snapshots.filter((snapshot) => snapshot.source === 'redis')),
  });
  console.log(`\nresults written to ${path}`);
}

await runMain(runBenchmark);
