/**
 * A scaled-out Gatehouse for the cluster benchmarks (`bench:budget`, `bench:revoke`): a scratch
 * PostgreSQL database, the shared Redis, one mock upstream and three gateway instances, each its
 * own child process. Everything started here is undone on success, error and Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { MOCK_UPSTREAM_API_KEY } from './gateway-setup.js';
import { type RunningService, startService } from './processes.js';

const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIRECTORY = fileURLToPath(new URL('./results/', import.meta.url));

/** The database the scratch database is created from (the connection, not a template). */
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Undo steps, run newest first, on success, error and Ctrl-C alike. */
const cleanups: (() => Promise<unknown>)[] = [];
/** Set once cleaning up started: the signal handler and the main flow share one run. */
let cleaning: Promise<void> | undefined;

/** Registers an undo step; one registered after cleaning up started runs at once. */
export function onCleanUp(undo: () => Promise<unknown>): void {
  cleanups.push(undo);
  if (cleaning) cleaning = cleaning.then(drain);
}

async function drain(): Promise<void> {
  while (cleanups.length > 0) {
    const undo = cleanups.pop();
    await undo?.().catch((error: unknown) => console.error('cleanup failed:', error));
  }
}

/** Runs every undo step once, however many callers ask (Ctrl-C while the main flow also ends). */
export async function cleanUp(): Promise<void> {
  cleaning ??= drain();
  let awaited: Promise<void> | undefined;
  while (awaited !== cleaning) {
    awaited = cleaning;
    await awaited;
  }
}

/**
 * Runs a benchmark: cleans up whatever it started however it ends. A setup error exits 1; a missed
 * target does not (the benchmark prints FAIL and exits 0).
 */
export async function runMain(benchmark: () => Promise<void>): Promise<void> {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\n${signal}: stopping the gateways and the mock upstream, dropping the database`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  try {
    await benchmark();
  } catch (error) {
    // After Ctrl-C the run fails against stopped children; that is not worth a stack trace.
    if (!interrupted) console.error(error);
    process.exitCode = 1;
  } finally {
    await cleanUp();
  }
}

export interface AdminClient {
  call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Record<string, unknown>>;
}

export function adminClient(gatewayUrl: string, adminToken: string): AdminClient {
  return {
    async call(method, path, body) {
      const response = await fetch(`${gatewayUrl}/api/admin${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`admin ${method} ${path} answered ${response.status}: ${text}`);
      return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    },
  };
}

export function stringField(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== 'string') throw new Error(`admin API response has no string '${field}'`);
  return value;
}

export function numberField(record: Record<string, unknown>, field: string): number {
  const value = record[field];
  if (typeof value !== 'number') throw new Error(`admin API response has no number '${field}'`);
  return value;
}

export interface Cluster {
  mock: RunningService;
  /** Three gateway instances on one database, one Redis and one secret key. */
  gateways: RunningService[];
  adminToken: string;
  /** The admin API through instance 1. */
  admin: AdminClient;
  databaseName: string;
}

export interface ClusterOptions {
  instances: number;
  /** Extra settings for the mock upstream (MOCK_USAGE_*, MOCK_EVENT_DELAY_MS). */
  mockEnvironment?: Record<string, string>;
  /** Extra settings for every gateway instance. */
  gatewayEnvironment?: Record<string, string>;
}

async function createScratchDatabase(): Promise<{ name: string; url: string }> {
  const name = `gatehouse_bench_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  onCleanUp(async () => {
    const dropper = new pg.Client({ connectionString: POSTGRES_URL });
    await dropper.connect();
    try {
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await dropper.end();
    }
  });
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** Starts the database, the mock and the gateways one after the other, registering each for cleanup. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const database = await createScratchDatabase();
  const adminToken = randomBytes(24).toString('hex');
  const secretKey = randomBytes(32).toString('base64');
  const mock = await startService({
    name: 'mock-upstream',
    args: ['--import', 'tsx', 'packages/server/test/mock-upstream/main.ts'],
    workingDirectory: REPOSITORY_ROOT,
    environment: { PORT: '0', HOST: '127.0.0.1', MOCK_RECORD: '0', ...options.mockEnvironment },
    listeningLine: /mock upstream listening on (http:\/\/\S+)/,
    startTimeoutMs: 30_000,
  });
  onCleanUp(() => mock.stop());
  const gateways: RunningService[] = [];
  // Sequentially: the first instance migrates the fresh database before the others connect.
  for (let index = 1; index <= options.instances; index++) {
    const dataDirectory = await mkdtemp(join(tmpdir(), `gatehouse-bench-${index}-`));
    onCleanUp(() => rm(dataDirectory, { recursive: true, force: true }));
    const gateway = await startService({
      name: `gateway-${index}`,
      args: ['packages/cli/dist/bin.js', 'serve'],
      workingDirectory: REPOSITORY_ROOT,
      environment: {
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: database.url,
        REDIS_URL,
        GATEHOUSE_SECRET_KEY: secretKey,
        GATEHOUSE_ADMIN_TOKEN: adminToken,
        // The mock provider runs on loopback, which is refused unless allowed.
        GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS: '127.0.0.0/8',
        GATEHOUSE_DATA_DIR: dataDirectory,
        GATEHOUSE_LOG_LEVEL: 'warn',
        ...options.gatewayEnvironment,
      },
      listeningLine: /Gatehouse is listening on (http:\/\/\S+)/,
      startTimeoutMs: 60_000,
    });
    onCleanUp(() => gateway.stop());
    gateways.push(gateway);
  }
  const first = gateways[0];
  if (!first) throw new Error('a cluster needs at least one instance');
  return {
    mock,
    gateways,
    adminToken,
    admin: adminClient(first.url, adminToken),
    databaseName: database.name,
  };
}

/** One OpenAI provider on the mock serving `models`, the default policy, and a project; returns its id. */
export async function configureProject(cluster: Cluster, models: string[]): Promise<string> {
  const provider = await cluster.admin.call('POST', '/providers', {
    name: 'bench-openai',
    type: 'openai',
    baseUrl: `${cluster.mock.url}/v1`,
    apiKey: MOCK_UPSTREAM_API_KEY,
    models,
  });
  await cluster.admin.call('POST', '/routing-policies', {
    name: 'default',
    providers: [stringField(provider, 'id')],
    isDefault: true,
  });
  return stringField(await cluster.admin.call('POST', '/projects', { name: 'bench' }), 'id');
}

export function machine(): { node: string; cpus: number; cpuModel: string } {
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' };
}

export async function writeResults(fileName: string, document: unknown): Promise<string> {
  await mkdir(RESULTS_DIRECTORY, { recursive: true });
  const path = join(RESULTS_DIRECTORY, fileName);
  await writeFile(path, `${JSON.stringify(document, null, 2)}\n`);
  return path;
}

export const sleep = (milliseconds: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));
