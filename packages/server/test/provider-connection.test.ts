import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MOCK_AWS_ACCESS_KEY_ID, MOCK_AWS_SECRET_ACCESS_KEY } from './mock-upstream/bedrock.js';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { ADMIN_TOKEN, freePort, startTestGatehouse, type TestGatehouse } from './support/harness.js';

/** `POST /api/admin/providers/:id/test`: one real, cheap request per provider, with its stored secret. */

const WRONG_KEY = 'sk-wrong-key-that-must-never-be-echoed-12345678';
const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const serviceAccountJson = (tokenUri: string) =>
  JSON.stringify({
    type: 'service_account',
    project_id: 'gatehouse-test',
    private_key_id: 'key-1',
    private_key: privateKey,
    client_email: 'gateway@gatehouse-test.iam.gserviceaccount.com',
    token_uri: tokenUri,
  });

let mock: MockUpstream;
let server: TestGatehouse;
beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestGatehouse();
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

interface TestAnswer {
  ok: boolean;
  status: number | null;
  latencyMs: number;
  message: string;
}

let counter = 0;
async function connect(fields: Record<string, unknown>): Promise<string> {
  counter += 1;
  const created = await server.admin('POST', '/providers', { name: `probe-${counter}`, ...fields });
  return created.id;
}

async function testOf(id: string): Promise<{ status: number; body: TestAnswer; text: string }> {
  const response = await fetch(`${server.url}/api/admin/providers/${id}/test`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

describe('testing a provider connection', () => {
  it('lists OpenAI models with the stored key, and says a wrong key is wrong without echoing it', async () => {
    const good = await connect({ type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: MOCK_UPSTREAM_API_KEY });
    const answer = await testOf(good);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ok: true, status: 200 });
    expect(answer.body.latencyMs).toBeGreaterThanOrEqual(0);
    expect(mock.requests.map((request) => [request.method, request.path])).toEqual([['GET', '/v1/models']]);
    expect(mock.requests[0]?.headers.authorization).toBe(`Bearer ${MOCK_UPSTREAM_API_KEY}`);
    expect(answer.text).not.toContain(MOCK_UPSTREAM_API_KEY);

    const bad = await connect({ type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: WRONG_KEY });
    const refused = await testOf(bad);
    expect(refused.body).toMatchObject({ ok: false, status: 401 });
    expect(refused.body.message).toMatch(/wrong, revoked or expired; rotate the secret/);
    expect(refused.text).not.toContain(WRONG_KEY);
    expect(refused.text).not.toContain(WRONG_KEY.slice(-4));
  });

  it('passes once the secret is rotated, and the audit log holds no secret', async () => {
    const id = await connect({ type: 'anthropic', baseUrl: mock.url, apiKey: WRONG_KEY });
    expect((await testOf(id)).body).toMatchObject({ ok: false, status: 401 });
    await server.admin('PATCH', `/providers/${id}`, { apiKey: MOCK_UPSTREAM_API_KEY });
    expect((await testOf(id)).body).toMatchObject({ ok: true, status: 200 });
    expect(mock.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/models?limit=1' });
    expect(mock.requests.at(-1)?.headers['x-api-key']).toBe(MOCK_UPSTREAM_API_KEY);
    const audit = await server.admin('GET', `/audit?action=provider.test&targetId=${id}`);
    expect(audit.data).toHaveLength(2);
    const logged = JSON.stringify(audit.data);
    expect(logged).not.toContain(MOCK_UPSTREAM_API_KEY);
    expect(logged).not.toContain(WRONG_KEY);
  });

  it('tests Gemini, Azure, Bedrock and Vertex credentials with their own cheapest calls', async () => {
    const gemini = await connect({ type: 'gemini', baseUrl: mock.url, apiKey: MOCK_UPSTREAM_API_KEY });
    expect((await testOf(gemini)).body).toMatchObject({ ok: true, status: 200 });
    const geminiWrong = await connect({ type: 'gemini', baseUrl: mock.url, apiKey: WRONG_KEY });
    const geminiRefused = (await testOf(geminiWrong)).body;
    // AI Studio answers a wrong key with 400 and says so.
    expect(geminiRefused).toMatchObject({ ok: false, status: 400 });
    expect(geminiRefused.message).toContain('API key not valid');

    const azure = await connect({ type: 'azure', baseUrl: mock.url, apiKey: MOCK_UPSTREAM_API_KEY });
    expect((await testOf(azure)).body).toMatchObject({ ok: true, status: 200 });
    const azureWrong = await connect({ type: 'azure', baseUrl: mock.url, apiKey: WRONG_KEY });
    expect((await testOf(azureWrong)).body).toMatchObject({ ok: false, status: 401 });

    const bedrockFields = { type: 'bedrock', baseUrl: mock.url, region: 'us-east-1' };
    const bedrock = await connect({
      ...bedrockFields,
      accessKeyId: MOCK_AWS_ACCESS_KEY_ID,
      secretAccessKey: MOCK_AWS_SECRET_ACCESS_KEY,
    });
    expect((await testOf(bedrock)).body).toMatchObject({ ok: true, status: 200 });
    expect(mock.requests.at(-1)).toMatchObject({ method: 'GET', path: '/foundation-models' });
    const bedrockWrong = await connect({
      ...bedrockFields,
      accessKeyId: MOCK_AWS_ACCESS_KEY_ID,
      secretAccessKey: 'not/the/secret/access/key/at/all/0000',
    });
    const bedrockRefused = await testOf(bedrockWrong);
    expect(bedrockRefused.body).toMatchObject({ ok: false, status: 403 });
    expect(bedrockRefused.body.message).toContain('signature we calculated does not match');
    expect(bedrockRefused.text).not.toContain('not/the/secret');

    const vertexFields = {
      type: 'vertex',
      baseUrl: mock.url,
      projectId: 'gatehouse-test',
      location: 'us-east5',
    };
    const vertex = await connect({
      ...vertexFields,
      serviceAccountJson: serviceAccountJson(`${mock.url}/token`),
    });
    expect((await testOf(vertex)).body).toMatchObject({ ok: true, status: 200 });
    expect(mock.requests.at(-1)?.path).toMatch(/publishers\/google\/models\/[^/]+:countTokens$/);
    const vertexBroken = await connect({
      ...vertexFields,
      serviceAccountJson: serviceAccountJson(`${mock.url}/no-token-here`),
    });
    const vertexRefused = await testOf(vertexBroken);
    expect(vertexRefused.body).toMatchObject({ ok: false, status: null });
    expect(vertexRefused.body.message).toMatch(/token endpoint answered 404/);
    expect(vertexRefused.text).not.toContain('PRIVATE KEY');
  });

  it('names an unreachable host, and a missing provider is a 404 in the admin shape', async () => {
    const closedPort = await freePort();
    const id = await connect({
      type: 'openai',
      baseUrl: `http://127.0.0.1:${closedPort}/v1`,
      apiKey: 'sk-x',
    });
    const answer = (await testOf(id)).body;
    expect(answer).toMatchObject({ ok: false, status: null });
    expect(answer.message).toBe(
      `http://127.0.0.1:${closedPort} refused the connection: nothing listens there; check the base URL.`,
    );
    const missing = await testOf('prov_nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'not_found', message: 'provider not found' } });
  });
});
