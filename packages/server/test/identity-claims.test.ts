import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { startTestGatehouse, type TestGatehouse } from './support/harness.js';

/**
 * The gateway's resolved identity as a signed token: published keys, claims a trusted upstream
 * can verify, and never sent to an upstream the policy does not trust.
 */
let mock: MockUpstream;
let server: TestGatehouse;

beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestGatehouse({ GATEHOUSE_PUBLIC_URL: 'https://gatehouse.example.com' });
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});

async function keyThrough(forwardIdentity: boolean) {
  const provider = await server.admin('POST', '/providers', {
    name: forwardIdentity ? 'in-house' : 'public',
    type: 'openai',
    baseUrl: `${mock.url}/v1`,
    apiKey: MOCK_UPSTREAM_API_KEY,
    models: ['gpt-4o'],
    forwardIdentity,
  });
  expect(provider.forwardIdentity).toBe(forwardIdentity);
  const policy = await server.admin('POST', '/routing-policies', {
    name: provider.name,
    providers: [provider.id],
  });
  const project = await server.admin('POST', '/projects', {
    name: provider.name,
    routingPolicyId: policy.id,
  });
  const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'identity' });
  return { key: key.key as string, keyId: key.id as string, projectId: project.id as string };
}

function chat(key: string) {
  return fetch(`${server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

describe('identity claims', () => {
  it('publishes only public signing keys', async () => {
    const response = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    const jwks = await response.json();
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key.d).toBeUndefined();
    }
  });

  it('sends a trusted upstream a token it can verify against the JWKS, with who is calling', async () => {
    const { key, keyId, projectId } = await keyThrough(true);
    mock.reset();
    expect((await chat(key)).status).toBe(200);
    const token = mock.requests[0]?.headers['x-gatehouse-identity'] as string;
    expect(token).toMatch(/^ey/);
    const jwks = createLocalJWKSet(await (await fetch(`${server.url}/.well-known/jwks.json`)).json());
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: 'https://gatehouse.example.com',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({
      organization_id: 'org_default',
      project_id: projectId,
      principal_id: keyId,
      personal: false,
      key_id: keyId,
      sub: keyId,
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300);
  });

  it('keeps the identity from an upstream the policy does not trust', async () => {
    const { key } = await keyThrough(false);
    mock.reset();
    expect((await chat(key)).status).toBe(200);
    expect(mock.requests[0]?.headers['x-gatehouse-identity']).toBeUndefined();
  });

  it('signs with the same key after a restart on the same storage', async () => {
    const before = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
    const reloaded = await (await import('../src/security/identity-tokens.js')).IdentityTokens.load(
      server.gatehouse.storage.db,
      server.gatehouse.box,
      'https://gatehouse.example.com',
    );
    expect(reloaded.jwks().keys.map((key) => key.kid)).toEqual(
      before.keys.map((key: { kid: string }) => key.kid),
    );
  });
});
