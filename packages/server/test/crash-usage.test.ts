import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { ADMIN_TOKEN, freePort } from './support/harness.js';
import { redisAnswers } from './support/own-redis.js';

/**
 * A gateway killed with SIGKILL right after answering calls: the usage it charged to the budget
 * counters (in its own Redis, which outlives the gateway) must be in the ledger after the next
 * start, so counter and ledger agree. The real `gatehouse serve` on embedded PGlite in a data dir;
 * the ledger's flush interval is far longer than the test, so only the write-ahead spool can
 * carry the events across the crash.
 */
const cli = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const CALLS = 5;
/** gpt-4o: 1,000 tokens in at $2.50/M and 1,000 out at $10/M. */
const CALL_COST_USD = 0.0125;

let redis: ChildProcess | undefined;
let redisPort: number;
let mock: MockUpstream;
let dataDir: string;
const children: ChildProcess[] = [];

function startRedis(): Promise<void> {
  redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  return waitForRedis(redisPort);
}

async function waitForRedis(port: number): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (await redisAnswers(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Redis never answered on ${port}`);
}

async function startServe(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS: '127.0.0.0/8',
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN,
      GATEHOUSE_USAGE_FLUSH_MS: '60000',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    },
    stdio: 'ignore',
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitForHealthy(url, child);
  return { child, url };
}

/**
 * Until the server answers `/healthz` over HTTP. A bare TCP connect is not enough: polling a port
 * in the ephemeral range while nothing listens there yet can connect the socket to itself (TCP
 * simultaneous open), which once let this test call a server that was not up.
 */
async function waitForHealthy(url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (child.exitCode !== null) throw new Error(`gatehouse serve exited with ${child.exitCode}`);
    const healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} never answered /healthz`);
}

async function admin<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}/api/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  redisPort = await freePort();
  await startRedis();
  mock = await startMockUpstream();
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-crash-'));
});
afterAll(async () => {
  for (const child of children) await kill(child);
  if (redis) await kill(redis);
  await mock?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a gateway killed right after answering', () => {
  it('keeps every charged call in the ledger, so counter and ledger agree after the restart', async () => {
    const first = await startServe();
    const provider = await admin<{ id: string }>(first.url, 'POST', '/providers', {
      name: 'mock',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o'],
    });
    await admin(first.url, 'POST', '/routing-policies', {
      name: 'p',
      providers: [provider.id],
      isDefault: true,
    });
    const project = await admin<{ id: string }>(first.url, 'POST', '/projects', { name: 'crash' });
    const key = await admin<{ id: string; key: string }>(first.url, 'POST', '/virtual-keys', {
      projectId: project.id,
      name: 'crash',
    });
    const budget = await admin<{ id: string }>(first.url, 'POST', '/budgets', {
      scope: 'key',
      scopeId: key.id,
      limitUsd: 10,
      window: 'day',
      action: 'block',
    });
    mock.setDefault({ usage: { inputTokens: 1_000, outputTokens: 1_000 } });
    for (let call = 0; call < CALLS; call++) {
      const response = await fetch(`${first.url}/api/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o',
          max_tokens: 1_000,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      expect(response.status).toBe(200);
      await response.text();
    }
    // The counter in Redis was charged for every call (the settle follows the response's end).
    const deadline = Date.now() + 5_000;
    let charged = 0;
    while (Date.now() < deadline) {
      charged = (await admin<{ spentUsd: number }>(first.url, 'GET', `/budgets/${budget.id}`)).spentUsd;
      if (charged >= CALLS * CALL_COST_USD - 1e-9) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(charged).toBeCloseTo(CALLS * CALL_COST_USD, 9);
    await kill(first.child);

    const second = await startServe();
    const usage = await admin<{ rows: { requests: number; costUsd: number }[] }>(
      second.url,
      'GET',
      '/usage?groupBy=key',
    );
    const requests = usage.rows.reduce((sum, row) => sum + row.requests, 0);
    const ledgerUsd = usage.rows.reduce((sum, row) => sum + row.costUsd, 0);
    expect(requests).toBe(CALLS);
    expect(ledgerUsd).toBeCloseTo(CALLS * CALL_COST_USD, 9);
    const counter = await admin<{ spentUsd: number }>(second.url, 'GET', `/budgets/${budget.id}`);
    expect(counter.spentUsd).toBeCloseTo(ledgerUsd, 9);
    // Two cold starts of a real server on PGlite: slower than the default per-test bound on a busy machine.
  }, 90_000);
});
