import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateVirtualKey, virtualKeyHint } from '@gatehouse/core';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import type { StorageTarget } from '../../src/store/database.js';
import { createProject } from '../../src/store/projects.js';
import { projects, teams, users } from '../../src/store/schema.js';
import { insertVirtualKey } from '../../src/store/virtual-keys.js';
import { assemble, type Gatehouse } from '../../src/wiring.js';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from '../mock-upstream/mock-upstream.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * Where the suite's databases live. Unset: embedded PGlite in memory, one per server. Set
 * (CI does, for a second pass): a real PostgreSQL, with a scratch database per server.
 */
const postgresUrl = process.env.GATEHOUSE_TEST_POSTGRES_URL || undefined;

export interface TestGatehouse {
  gatehouse: Gatehouse;
  /** e.g. http://127.0.0.1:PORT */
  url: string;
  /** Calls the admin API with the admin token; throws on an unexpected status. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever fields the endpoint under test returns.
  admin<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** Writes pending usage events now, instead of waiting for the batch timer. */
  flushUsage(): Promise<void>;
  close(): Promise<void>;
}

function testConfig(dataDir: string, environment: Record<string, string>, secretKey: string) {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN,
    GATEHOUSE_SECRET_KEY: secretKey,
    GATEHOUSE_USAGE_FLUSH_MS: '50',
    GATEHOUSE_LOG_LEVEL: 'fatal',
    // The mock providers run on loopback, which a real deployment refuses to call.
    GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128',
    ...environment,
  });
}

async function startOn(
  storage: StorageTarget,
  environment: Record<string, string>,
  secretKey: string,
  cleanUp: () => Promise<void>,
): Promise<TestGatehouse> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const gatehouse = await assemble(testConfig(dataDir, environment, secretKey), { storage, logger: false });
  // A test that needs the public URL to be right (SSO redirects) passes a free PORT.
  const address = await gatehouse.app.listen({ port: Number(environment.PORT ?? 0), host: '127.0.0.1' });
  return {
    gatehouse,
    url: address,
    async admin(method, path, body) {
      const response = await fetch(`${address}/api/admin${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
      return text === '' ? undefined : JSON.parse(text);
    },
    async flushUsage() {
      await gatehouse.callsSettled();
      await gatehouse.ledger.flush();
    },
    async close() {
      await gatehouse.close(1_000);
      await cleanUp();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A loopback port free right now, for a server whose public URL must be known before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A server whose public URL is its real address (`http://127.0.0.1:PORT`), as identity
 * providers need for redirect URIs, audiences and ACS URLs.
 */
export async function startAddressableGatehouse(
  environment: Record<string, string> = {},
): Promise<TestGatehouse> {
  return startTestGatehouse({ ...environment, PORT: String(await freePort()) });
}

export async function startTestGatehouse(environment: Record<string, string> = {}): Promise<TestGatehouse> {
  const scratch = postgresUrl ? await createScratchDatabase(postgresUrl) : undefined;
  const storage: StorageTarget = scratch
    ? { kind: 'postgres', url: scratch.url }
    : { kind: 'pglite', dataDir: undefined };
  return startOn(storage, environment, randomBytes(32).toString('base64'), async () => {
    await scratch?.drop();
  });
}

/** A server on storage the test prepared itself (its own database, its own role). */
export async function startTestGatehouseOn(
  storage: StorageTarget,
  environment: Record<string, string> = {},
): Promise<TestGatehouse> {
  return startOn(storage, environment, randomBytes(32).toString('base64'), async () => {});
}

/** Whether several gateway instances can be started on shared storage (needs a real PostgreSQL). */
export const canStartCluster = postgresUrl !== undefined;

/**
 * Several gateway instances sharing one PostgreSQL database, one secret key and (when the
 * environment names one) one Redis: what a scaled-out deployment looks like.
 */
export async function startTestCluster(
  size: number,
  environment: Record<string, string>,
): Promise<TestGatehouse[]> {
  if (!postgresUrl) throw new Error('a cluster needs GATEHOUSE_TEST_POSTGRES_URL');
  const scratch = await createScratchDatabase(postgresUrl);
  const secretKey = randomBytes(32).toString('base64');
  const instances: TestGatehouse[] = [];
  let open = size;
  for (let index = 0; index < size; index++) {
    instances.push(
      await startOn({ kind: 'postgres', url: scratch.url }, environment, secretKey, async () => {
        open -= 1;
        if (open === 0) await scratch.drop();
      }),
    );
  }
  return instances;
}

/** A fresh database on the PostgreSQL at `baseUrl`, with its URL and a way to drop it. */
export async function createScratchDatabase(
  baseUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface QuickStart {
  openAiProviderId: string;
  anthropicProviderId: string;
  policyId: string;
  projectId: string;
  keyId: string;
  key: string;
}

/** The README's quick start: two providers on the mock, a default policy, a project and a key. */
export async function quickStart(
  server: TestGatehouse,
  mock: MockUpstream,
  keyOptions: Record<string, unknown> = {},
): Promise<QuickStart> {
  const openAi = await server.admin('POST', '/providers', {
    name: 'mock-openai',
    type: 'openai',
    baseUrl: `${mock.url}/v1`,
    apiKey: MOCK_UPSTREAM_API_KEY,
    models: ['gpt-4o-mini', 'gpt-4o'],
  });
  const anthropic = await server.admin('POST', '/providers', {
    name: 'mock-anthropic',
    type: 'anthropic',
    baseUrl: mock.url,
    apiKey: MOCK_UPSTREAM_API_KEY,
    models: ['claude-sonnet-4-6', 'claude-haiku-4-5'],
  });
  const policy = await server.admin('POST', '/routing-policies', {
    name: 'default',
    providers: [openAi.id, anthropic.id],
    isDefault: true,
  });
  const project = await server.admin('POST', '/projects', { name: 'quick start' });
  const key = await server.admin('POST', '/virtual-keys', {
    projectId: project.id,
    name: 'laptop',
    ...keyOptions,
  });
  return {
    openAiProviderId: openAi.id,
    anthropicProviderId: anthropic.id,
    policyId: policy.id,
    projectId: project.id,
    keyId: key.id,
    key: key.key,
  };
}

/** Polls until `check` passes; usage events are written in batches, after the response ends. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A mock upstream and a gateway set up as in the README's quick start: most test files' start. */
export interface QuickStartGateway {
  mock: MockUpstream;
  server: TestGatehouse;
  setup: QuickStart;
  close(): Promise<void>;
}

/**
 * A server on a mock upstream with the quick start done. `environment` is passed to the server;
 * `addressable` gives it its real public URL (for sign-in tests).
 */
export async function startQuickStartGateway(
  environment: Record<string, string> = {},
  options: { addressable?: boolean } = {},
): Promise<QuickStartGateway> {
  const mock = await startMockUpstream();
  const server = options.addressable
    ? await startAddressableGatehouse(environment)
    : await startTestGatehouse(environment);
  const setup = await quickStart(server, mock);
  return {
    mock,
    server,
    setup,
    async close() {
      await server.close();
      await mock.close();
    },
  };
}

/** A person as SSO sign-in will create them: in a team, with a personal project and a personal key. */
export interface PersonalCaller {
  key: string;
  keyId: string;
  projectId: string;
  userId: string;
  teamId: string;
}

export async function createPersonalCaller(server: TestGatehouse, name: string): Promise<PersonalCaller> {
  const db = server.gatehouse.storage.db;
  const teamId = `team_${name}`;
  const userId = `usr_${name}`;
  await db.insert(teams).values({ id: teamId, organizationId: 'org_default', name });
  await db
    .insert(users)
    .values({ id: userId, organizationId: 'org_default', email: `${name}@example.com`, teamId });
  const project = await createProject(db, 'org_default', {
    name: `${name}'s`,
    isPersonal: true,
    ownerUserId: userId,
  });
  await db.update(projects).set({ teamId }).where(eq(projects.id, project.id));
  const { key, keyId } = await addPersonalKey(server, project.id, userId);
  return { key, keyId, projectId: project.id, userId, teamId };
}

/** Another personal key for the same person (a second laptop). */
export async function addPersonalKey(
  server: TestGatehouse,
  projectId: string,
  userId: string,
): Promise<{ key: string; keyId: string }> {
  const key = generateVirtualKey();
  const row = await insertVirtualKey(server.gatehouse.storage.db, 'org_default', {
    projectId,
    name: 'laptop',
    kind: 'personal',
    userId,
    keyHash: server.gatehouse.box.hashVirtualKey(key),
    keyHint: virtualKeyHint(key),
  });
  return { key, keyId: row.id };
}
