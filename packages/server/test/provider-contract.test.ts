import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAdapter, registeredAdapters } from '../src/gateway/providers/registry.js';
import { echoAdapter } from './fixtures/echo-provider/adapter.js';
import { startEchoUpstream } from './fixtures/echo-provider/upstream.js';
import { ADMIN_TOKEN, startTestGatehouse, type TestGatehouse } from './support/harness.js';

/**
 * The provider contract holds: a provider is one folder and one registry line. The echo adapter
 * lives in a fixture folder and is registered before the server is assembled; nothing else
 * knows it, yet the admin API validates and stores its fields, the OpenAPI document describes
 * them, and the gateway calls it.
 */

// Registered before any server exists: the admin API draws its schemas from the registry.
registerAdapter(echoAdapter);

let server: TestGatehouse;
let echo: Awaited<ReturnType<typeof startEchoUpstream>>;

beforeAll(async () => {
  echo = await startEchoUpstream();
  server = await startTestGatehouse();
});
afterAll(async () => {
  await server?.close();
  await echo?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever fields the endpoint under test returns.
type Json = Record<string, any>;

async function post(path: string, body: unknown): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${server.url}/api/admin${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

describe('a provider registered from its own folder', () => {
  it('is in the registry beside the built-in ones, which it cannot replace', () => {
    expect(registeredAdapters().map((adapter) => adapter.type)).toContain('echo');
    expect(() => registerAdapter(echoAdapter)).toThrow(/registered already/);
  });

  it('is documented in the OpenAPI document: its type, settings and secrets', async () => {
    const doc = await (await fetch(`${server.url}/api/openapi.json`)).json();
    const create = doc.paths['/api/admin/providers'].post.requestBody.content['application/json'].schema;
    expect(create.properties.type.enum).toContain('echo');
    expect(create.properties.type.description).toContain(
      'echo: A test provider that answers with what it was sent (needs baseUrl, greeting, echoToken)',
    );
    expect(create.properties.greeting.description).toBe('echo: the word the echo server answers with first');
    expect(create.properties.echoToken.description).toMatch(
      /^echo: the echo server token\. Secret: stored encrypted/,
    );
    expect(create.properties.volume.type).toBe('integer');
    // Built-in fields are described by their own adapters too.
    expect(create.properties.region.description).toBe('bedrock: AWS region, e.g. us-east-1');
    const patch = doc.paths['/api/admin/providers/{id}'].patch.requestBody.content['application/json'].schema;
    expect(Object.keys(patch.properties)).toEqual(
      expect.arrayContaining(['greeting', 'echoToken', 'volume']),
    );
  });

  it('is validated by its own schemas and check when created', async () => {
    const missing = await post('/providers', { name: 'echo-missing', type: 'echo', baseUrl: echo.url });
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toBe('A provider of type echo needs greeting, echoToken.');
    const short = await post('/providers', {
      name: 'echo-short',
      type: 'echo',
      baseUrl: echo.url,
      greeting: 'hello',
      echoToken: 'short',
    });
    expect(short.status).toBe(400);
    expect(short.json.error.message).toContain('echoToken');
    const goodbye = await post('/providers', {
      name: 'echo-goodbye',
      type: 'echo',
      baseUrl: echo.url,
      greeting: 'goodbye',
      echoToken: 'echo-secret-token',
    });
    expect(goodbye.status).toBe(400);
    expect(goodbye.json.error.message).toBe('greeting must not be goodbye: an echo only says hello.');
  });

  it('is created and listed through the admin API, its secret sealed and its settings kept', async () => {
    const created = await post('/providers', {
      name: 'echo',
      type: 'echo',
      baseUrl: echo.url,
      greeting: 'hello',
      volume: 11,
      echoToken: 'echo-secret-token',
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ type: 'echo', settings: { greeting: 'hello', volume: 11 } });
    expect(JSON.stringify(created.json)).not.toContain('echo-secret-token');
    const listed = await server.admin('GET', '/providers');
    expect(listed.data.map((row: { name: string }) => row.name)).toContain('echo');

    // A patch is validated by the same schemas and check.
    const patched = await fetch(`${server.url}/api/admin/providers/${created.json.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ greeting: 'goodbye' }),
    });
    expect(patched.status).toBe(400);
  });

  it('serves a gateway call through its adapter, against its loopback upstream', async () => {
    const provider = (await server.admin('GET', '/providers')).data.find(
      (row: { name: string }) => row.name === 'echo',
    );
    const policy = await server.admin('POST', '/routing-policies', {
      name: 'echo',
      providers: [provider.id],
    });
    const project = await server.admin('POST', '/projects', { name: 'echo', routingPolicyId: policy.id });
    const { key } = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'echo' });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'echo-1', messages: [{ role: 'user', content: 'is anyone there?' }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gatehouse-provider')).toBe('echo');
    const answer = await response.json();
    expect(answer.choices[0].message.content).toBe('hello is anyone there?');
    expect(echo.requests.at(-1)).toMatchObject({
      path: '/echo',
      headers: { 'x-echo-token': 'echo-secret-token', 'x-echo-greeting': 'hello' },
    });
  });
});
