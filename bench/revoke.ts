/**
 * Revocation fan-out benchmark (`npm run bench:revoke`): three gateway instances sharing
 * PostgreSQL and Redis; 50 keys, each cached as valid by every instance, revoked through
 * instance 1 while all three are polled until they refuse it. Shows the delay from the revoke call
 * to the first refusal on each instance, p50 / p99 / max. See bench/README.md.
 *
 * `--redis-outage`: the instances share a Redis of the benchmark's own, stopped before the first
 * revocation, so pub/sub carries nothing and every refusal on instances 2 and 3 comes from the
 * change log, read every `GATEHOUSE_CHANGE_POLL_MS` (1 s). Each revoke waits a random part of a
 * poll interval first, so the delays sample the whole poll cycle; the target is one interval plus
 * 500 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import {
  type Cluster,
  configureProject,
  machine,
  onCleanUp,
  runMain,
  sleep,
  startCluster,
  stringField,
  writeResults,
} from './cluster.js';
import { percentile } from './measure.js';

const REDIS_OUTAGE = process.argv.includes('--redis-outage');
const CHANGE_POLL_MS = 1_000;

const INSTANCES = 3;
const KEYS = 50;
const MODEL = 'gpt-4o';
const TARGET_P99_MS = REDIS_OUTAGE ? CHANGE_POLL_MS + 500 : 1_000;
/**
 * A key cache of ten minutes: far longer than the run, so only the revocation fan-out (not a
 * cache expiring) can explain an instance refusing the key.
 */
const KEY_CACHE_TTL_MS = 600_000;
/** Each instance is polled back to back until it refuses, at most this often and this long. */
const POLL_BOUNDS = { maxRequests: 5_000, maxMilliseconds: 5_000 };

const BODY = JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });

interface InstanceOutcome {
  instance: number;
  /** From sending the revoke call to receiving the first 401 (undefined: never refused in bounds). */
  delayMs: number | undefined;
  /** Requests answered 200 after the revoke call was sent. */
  servedAfterRevoke: number;
  otherStatuses: number[];
}

interface Revocation {
  keyIndex: number;
  keyId: string;
  /** Round trip of DELETE /api/admin/virtual-keys/{id} through instance 1. */
  revokeCallMs: number;
  instances: InstanceOutcome[];
}

async function chat(pool: Pool, key: string): Promise<number> {
  const response = await pool.request({
    method: 'POST',
    path: '/api/v1/chat/completions',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: BODY,
  });
  await response.body.dump();
  return response.statusCode;
}

/** Sends requests back to back until the instance answers 401, bounded in count and time. */
async function pollUntilRefused(
  pool: Pool,
  instance: number,
  key: string,
  revokeSentAt: number,
): Promise<InstanceOutcome> {
  const outcome: InstanceOutcome = { instance, delayMs: undefined, servedAfterRevoke: 0, otherStatuses: [] };
  const deadline = revokeSentAt + POLL_BOUNDS.maxMilliseconds;
  for (let sent = 0; sent < POLL_BOUNDS.maxRequests && performance.now() < deadline; sent++) {
    let status: number;
    try {
      status = await chat(pool, key);
    } catch {
      status = 0;
    }
    if (status === 401) {
      outcome.delayMs = performance.now() - revokeSentAt;
      return outcome;
    }
    if (status === 200) outcome.servedAfterRevoke += 1;
    else if (outcome.otherStatuses.length < 20) outcome.otherStatuses.push(status);
  }
  return outcome;
}

async function revokeOne(
  cluster: Cluster,
  pools: Pool[],
  keyIndex: number,
  key: { id: string; key: string },
): Promise<Revocation> {
  // Warm: every instance resolves the key and caches it as valid.
  for (const [index, pool] of pools.entries()) {
    const status = await chat(pool, key.key);
    if (status !== 200)
      throw new Error(`warming key ${keyIndex} on instance ${index + 1} answered ${status}`);
  }
  // During the outage, at a random point of the poll cycle: back to back, every revoke would
  // come just after the poll that found the previous one.
  if (REDIS_OUTAGE) await sleep(Math.random() * CHANGE_POLL_MS);
  const revokeSentAt = performance.now();
  const revokeCall = cluster.admin.call('DELETE', `/virtual-keys/${key.id}`).then(() => performance.now());
  // Polling starts with the revoke call, not after its answer: the delay is the client's view.
  const polls = pools.map((pool, index) => pollUntilRefused(pool, index + 1, key.key, revokeSentAt));
  const [revokedAt, ...instances] = await Promise.all([revokeCall, ...polls]);
  return { keyIndex, keyId: key.id, revokeCallMs: revokedAt - revokeSentAt, instances };
}

function summarise(delays: number[]) {
  const sorted = Float64Array.from(delays).sort();
  return {
    count: delays.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
  };
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;

/** A Redis of this run's own on a free loopback port (the shared one is never stopped). */
async function startOwnRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port: found } = probe.address() as { port: number };
      probe.close(() => resolve(found));
    });
  });
  const redis: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    if (redis.exitCode !== null || redis.signalCode !== null) return;
    await new Promise((resolve) => {
      redis.once('exit', resolve);
      redis.kill('SIGKILL');
    });
  };
  onCleanUp(stop);
  for (let attempt = 0; attempt < 100; attempt++) {
    const ready = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ready) return { url: `redis://127.0.0.1:${port}`, stop };
    await sleep(50);
  }
  throw new Error('redis-server did not start');
}

async function runBenchmark(): Promise<void> {
  const startedAt = new Date();
  const ownRedis = REDIS_OUTAGE ? await startOwnRedis() : undefined;
  const cluster = await startCluster({
    instances: INSTANCES,
    gatewayEnvironment: {
      GATEHOUSE_KEY_CACHE_TTL_MS: String(KEY_CACHE_TTL_MS),
      GATEHOUSE_CHANGE_POLL_MS: String(CHANGE_POLL_MS),
      ...(ownRedis ? { REDIS_URL: ownRedis.url } : {}),
    },
  });
  console.log(
    `mock upstream ${cluster.mock.url}; gateways ${cluster.gateways.map((gateway) => gateway.url).join(', ')}`,
  );
  const projectId = await configureProject(cluster, [MODEL]);
  const keys: { id: string; key: string }[] = [];
  for (let index = 0; index < KEYS; index++) {
    const created = await cluster.admin.call('POST', '/virtual-keys', {
      projectId,
      name: `bench-revoke-${index}`,
    });
    keys.push({ id: stringField(created, 'id'), key: stringField(created, 'key') });
  }
  console.log(
    `${KEYS} keys, each warmed on all ${INSTANCES} instances, revoked through instance 1, ` +
      `then polled on every instance until refused (key cache TTL ${KEY_CACHE_TTL_MS / 1_000} s)`,
  );

  if (ownRedis) {
    await ownRedis.stop();
    console.log('Redis stopped: pub/sub carries nothing; the others learn from the change log');
  }

  const pools = cluster.gateways.map(
    (gateway) => new Pool(gateway.url, { connections: 2, pipelining: 1, keepAliveTimeout: 60_000 }),
  );
  const revocations: Revocation[] = [];
  try {
    for (const [index, key] of keys.entries()) revocations.push(await revokeOne(cluster, pools, index, key));
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }

  const outcomesOf = (instances: number[]) =>
    revocations.flatMap((revocation) =>
      revocation.instances.filter((outcome) => instances.includes(outcome.instance)),
    );
  const others = outcomesOf([2, 3]);
  const own = outcomesOf([1]);
  const delaysOf = (outcomes: InstanceOutcome[]) =>
    outcomes.flatMap((outcome) => (outcome.delayMs === undefined ? [] : [outcome.delayMs]));
  const othersSummary = summarise(delaysOf(others));
  const ownSummary = summarise(delaysOf(own));
  const neverRefused = [...others, ...own].filter((outcome) => outcome.delayMs === undefined).length;
  const servedAfter = [...others, ...own].reduce((sum, outcome) => sum + outcome.servedAfterRevoke, 0);
  const otherStatuses = [...others, ...own].flatMap((outcome) => outcome.otherStatuses);
  const revokeCall = summarise(revocations.map((revocation) => revocation.revokeCallMs));
  const pass =
    neverRefused === 0 &&
    othersSummary.count === KEYS * (INSTANCES - 1) &&
    othersSummary.p99Ms <= TARGET_P99_MS;

  console.log('');
  console.log(
    `instances 2 and 3 (${othersSummary.count} measurements): p50 ${ms(othersSummary.p50Ms)}, ` +
      `p99 ${ms(othersSummary.p99Ms)}, max ${ms(othersSummary.maxMs)}`,
  );
  console.log(
    `instance 1, which took the revoke call (${ownSummary.count}): p50 ${ms(ownSummary.p50Ms)}, ` +
      `p99 ${ms(ownSummary.p99Ms)}, max ${ms(ownSummary.maxMs)}`,
  );
  console.log(
    `revoke call round trip: p50 ${ms(revokeCall.p50Ms)}, max ${ms(revokeCall.maxMs)}; ` +
      `requests still served after the revoke call was sent: ${servedAfter}; ` +
      `never refused within ${POLL_BOUNDS.maxMilliseconds / 1_000} s: ${neverRefused}` +
      (otherStatuses.length > 0 ? `; other statuses: ${[...new Set(otherStatuses)].join(', ')}` : ''),
  );
  console.log(
    `\np99 delay from the revoke call to the first refusal on the other instances ` +
      `${ms(othersSummary.p99Ms)} vs target ≤ ${ms(TARGET_P99_MS)}: ${pass ? 'PASS' : 'FAIL'}`,
  );

  const path = await writeResults(REDIS_OUTAGE ? 'revoke-outage-latest.json' : 'revoke-latest.json', {
    startedAt: startedAt.toISOString(),
    machine: machine(),
    settings: {
      instances: INSTANCES,
      keys: KEYS,
      keyCacheTtlMs: KEY_CACHE_TTL_MS,
      pollBounds: POLL_BOUNDS,
      targetP99Ms: TARGET_P99_MS,
      redisOutage: REDIS_OUTAGE,
      changePollMs: CHANGE_POLL_MS,
    },
    figures: {
      otherInstances: othersSummary,
      revokingInstance: ownSummary,
      revokeCall,
      neverRefused,
      servedAfter,
    },
    verdicts: [{ target: `p99 revoke-to-refusal on the other instances ≤ ${TARGET_P99_MS / 1_000} s`, pass }],
    revocations,
  });
  console.log(`\nresults written to ${path}`);
}

await runMain(runBenchmark);
