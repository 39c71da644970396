import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerCredentials, virtualKeys } from '../src/store/schema.js';
import { type MockUpstream, startMockUpstream } from './mock-upstream/mock-upstream.js';
import { ADMIN_TOKEN, startTestGatehouse, type TestGatehouse } from './support/harness.js';

let mock: MockUpstream;
let server: TestGatehouse;
/** Ids of one of each object, created through the API, for routes that take an id. */
let ids: { provider: string; policy: string; project: string; key: string };

const PROVIDER_SECRET = 'sk-admin-test-Zq8vN3xR7tLw2Kp9';

beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestGatehouse();
  const provider = await server.admin('POST', '/providers', {
    name: 'primary',
    type: 'openai',
    baseUrl: `${mock.url}/v1`,
    apiKey: PROVIDER_SECRET,
    models: ['gpt-4o-mini'],
  });
  const policy = await server.admin('POST', '/routing-policies', { name: 'main', providers: [provider.id] });
  const project = await server.admin('POST', '/projects', {
    name: 'admin tests',
    routingPolicyId: policy.id,
  });
  const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'ci' });
  ids = { provider: provider.id, policy: policy.id, project: project.id, key: key.id };
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the endpoint returns.
  json: any;
}

/** Calls the admin API with any authorization (or none) and returns what came back, whatever the status. */
async function call(
  method: string,
  path: string,
  options: { body?: unknown; authorization?: string | null; rawBody?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const authorization = options.authorization === undefined ? `Bearer ${ADMIN_TOKEN}` : options.authorization;
  if (authorization !== null) headers.authorization = authorization;
  let body: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = options.rawBody ?? JSON.stringify(options.body);
  }
  const response = await fetch(`${server.url}/api/admin${path}`, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Every admin route, each with a request that would succeed with the admin token. */
function everyRoute(): Array<{ method: string; path: string; body?: unknown }> {
  return [
    { method: 'POST', path: '/providers', body: { name: 'intruder', type: 'openai', apiKey: 'sk-x' } },
    { method: 'GET', path: '/providers' },
    { method: 'GET', path: `/providers/${ids.provider}` },
    { method: 'DELETE', path: `/providers/${ids.provider}` },
    { method: 'POST', path: '/routing-policies', body: { name: 'intruder', providers: [ids.provider] } },
    { method: 'GET', path: '/routing-policies' },
    { method: 'GET', path: `/routing-policies/${ids.policy}` },
    { method: 'POST', path: '/projects', body: { name: 'intruder' } },
    { method: 'GET', path: '/projects' },
    { method: 'GET', path: `/projects/${ids.project}` },
    { method: 'POST', path: '/virtual-keys', body: { projectId: ids.project, name: 'intruder' } },
    { method: 'GET', path: '/virtual-keys' },
    { method: 'GET', path: `/virtual-keys/${ids.key}` },
    { method: 'DELETE', path: `/virtual-keys/${ids.key}` },
    { method: 'GET', path: '/usage?groupBy=model' },
    {
      method: 'POST',
      path: '/budgets',
      body: { scope: 'project', scopeId: ids.project, limitUsd: 1, window: 'day', action: 'block' },
    },
    { method: 'GET', path: '/budgets' },
    { method: 'GET', path: '/organization' },
    { method: 'GET', path: '/claude-code-settings' },
    { method: 'GET', path: '/users?email=someone@example.com' },
    { method: 'POST', path: '/users/usr_unknown/revoke-access' },
    { method: 'PUT', path: '/claude-code-settings', body: { settings: { model: 'intruder' } } },
    { method: 'PATCH', path: '/organization', body: { timeZone: 'Asia/Tokyo' } },
    { method: 'GET', path: '/budgets/bud_unknown' },
    { method: 'DELETE', path: '/budgets/bud_unknown' },
    { method: 'GET', path: '/sso' },
    {
      method: 'PUT',
      path: '/sso/oidc',
      body: { issuer: 'https://evil.example.com', clientId: 'intruder' },
    },
    { method: 'DELETE', path: '/sso/oidc' },
    { method: 'GET', path: '/teams' },
    { method: 'POST', path: '/teams', body: { name: 'intruder' } },
    { method: 'PATCH', path: '/users/usr_unknown', body: { teamId: null } },
    { method: 'GET', path: '/scim-tokens' },
    { method: 'POST', path: '/scim-tokens', body: { name: 'intruder' } },
  ];
}

describe('admin authentication', () => {
  const wrongCredentials: Array<[string, string | null]> = [
    ['no authorization header', null],
    ['an empty bearer', 'Bearer '],
    ['a wrong token', 'Bearer wrong-token-wrong-token-00'],
    ['the token minus its last character', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
    ['the token plus a character', `Bearer ${ADMIN_TOKEN}x`],
    ['the token without the Bearer scheme', ADMIN_TOKEN],
    ['the token as Basic credentials', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`],
  ];

  it.each(wrongCredentials)(
    'refuses %s with 401 on every admin route, changing nothing',
    async (_label, auth) => {
      for (const route of everyRoute()) {
        const answer = await call(route.method, route.path, { body: route.body, authorization: auth });
        expect(answer.status, `${route.method} ${route.path}`).toBe(401);
        expect(answer.json).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      }
      // Nothing the refused calls asked for happened.
      expect((await call('GET', `/providers/${ids.provider}`)).status).toBe(200);
      expect((await call('GET', `/virtual-keys/${ids.key}`)).json.revokedAt).toBeNull();
      const providers = await call('GET', '/providers');
      expect(providers.text).not.toContain('intruder');
      expect((await call('GET', '/projects')).text).not.toContain('intruder');
    },
  );

  it('refuses an unauthenticated caller before validating what it sent', async () => {
    // A caller without the token learns nothing about the request shapes: 401, never 400.
    const noBody = await call('POST', '/providers', { authorization: null });
    expect(noBody.status).toBe(401);
    const invalid = await call('POST', '/virtual-keys', { authorization: null, body: { nope: true } });
    expect(invalid.status).toBe(401);
    const badQuery = await call('GET', '/usage?groupBy=everything', { authorization: null });
    expect(badQuery.status).toBe(401);
    expect(badQuery.text).not.toContain('principal');
  });

  it('accepts the token whatever the case of the Bearer scheme', async () => {
    expect((await call('GET', '/providers', { authorization: `bearer ${ADMIN_TOKEN}` })).status).toBe(200);
  });

  it('refuses every admin call when no admin token is configured', async () => {
    const unset = await startTestGatehouse({ GATEHOUSE_ADMIN_TOKEN: '' });
    try {
      for (const authorization of [`Bearer ${ADMIN_TOKEN}`, 'Bearer ', 'Bearer undefined']) {
        const response = await fetch(`${unset.url}/api/admin/providers`, { headers: { authorization } });
        expect(response.status).toBe(401);
      }
    } finally {
      await unset.close();
    }
  });
});

describe('admin validation', () => {
  it.each([
    ['POST', '/providers', { type: 'openai' }, 'name'],
    ['POST', '/providers', { name: 'p', type: 'openrouter' }, 'type'],
    ['POST', '/providers', { name: 'p', type: 'openai', baseUrl: 'not a url' }, 'baseUrl'],
    ['POST', '/providers', { name: 'p', type: 'openai', baseUrl: 'ftp://files.example.com' }, 'baseUrl'],
    ['POST', '/providers', { name: 'p', type: 'openai', apiKey: '' }, 'apiKey'],
    ['POST', '/providers', { name: 'p', type: 'openai', models: 'gpt-4o' }, 'models'],
    ['POST', '/providers', { name: '   ', type: 'openai' }, 'name'],
    ['POST', '/providers', { name: 'p', type: 'openai', secretStuff: 'x' }, 'secretStuff'],
    ['POST', '/routing-policies', { name: 'p', providers: [] }, 'providers'],
    ['POST', '/routing-policies', { providers: ['prov_x'] }, 'name'],
    ['POST', '/routing-policies', { name: 'p', providers: ['prov_x'], isDefault: 'yes' }, 'isDefault'],
    ['POST', '/projects', {}, 'name'],
    ['POST', '/virtual-keys', { name: 'k' }, 'projectId'],
    ['POST', '/virtual-keys', { projectId: 'proj_x', name: 'k', expiresInSeconds: -5 }, 'expiresInSeconds'],
    ['POST', '/virtual-keys', { projectId: 'proj_x', name: 'k', expiresInSeconds: 1.5 }, 'expiresInSeconds'],
    ['GET', '/usage?groupBy=everything', undefined, 'groupBy'],
    ['GET', '/usage?status=fine', undefined, 'status'],
    ['GET', '/usage?groupBy=model&from=yesterday', undefined, 'from'],
  ])('%s %s %j → 400 naming %s', async (method, path, body, field) => {
    const answer = await call(method, path, { body });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(answer.json.error.message).toContain(field);
  });

  it('refuses a provider without the fields its type cannot be called without', async () => {
    const bedrock = await call('POST', '/providers', {
      body: { name: 'b', type: 'bedrock', region: 'us-east-1' },
    });
    expect(bedrock.status).toBe(400);
    expect(bedrock.json.error.message).toBe('A provider of type bedrock needs accessKeyId, secretAccessKey.');
    const vertex = await call('POST', '/providers', {
      body: {
        name: 'v',
        type: 'vertex',
        projectId: 'p',
        location: 'us-east5',
        serviceAccountJson: '{"type":"x"}',
      },
    });
    expect(vertex.status).toBe(400);
    expect(vertex.json.error.message).toContain('client_email and private_key');
  });

  it('refuses a malformed JSON body with 400', async () => {
    const answer = await call('POST', '/projects', { rawBody: '{"name": ' });
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toEqual(expect.any(String));
  });
});

describe('admin objects', () => {
  it('creates each kind of object with 201 and an id, and reads it back', async () => {
    const provider = await call('POST', '/providers', { body: { name: 'second', type: 'anthropic' } });
    expect(provider.status).toBe(201);
    expect(provider.json).toMatchObject({ id: expect.any(String), name: 'second', type: 'anthropic' });
    expect(provider.json.hasApiKey).toBe(false);
    const policy = await call('POST', '/routing-policies', {
      body: {
        name: 'both',
        providers: [ids.provider, provider.json.id],
        modelAliases: { fast: 'gpt-4o-mini' },
      },
    });
    expect(policy.status).toBe(201);
    expect(policy.json).toMatchObject({ providers: [ids.provider, provider.json.id], isDefault: false });
    const project = await call('POST', '/projects', {
      body: { name: 'reads', routingPolicyId: policy.json.id },
    });
    expect(project.status).toBe(201);
    const key = await call('POST', '/virtual-keys', {
      body: { projectId: project.json.id, name: 'temporary', expiresInSeconds: 3600 },
    });
    expect(key.status).toBe(201);
    expect(Date.parse(key.json.expiresAt) - Date.now()).toBeGreaterThan(3500_000);

    const created = {
      providers: provider,
      'routing-policies': policy,
      projects: project,
      'virtual-keys': key,
    };
    const createdIds = new Set<string>();
    for (const [collection, answer] of Object.entries(created)) {
      createdIds.add(answer.json.id);
      const read = await call('GET', `/${collection}/${answer.json.id}`);
      expect(read.status).toBe(200);
      const { key: _key, ...withoutKey } = answer.json;
      expect(read.json).toEqual(withoutKey);
      const list = await call('GET', `/${collection}`);
      expect(list.json.data.map((item: { id: string }) => item.id)).toContain(answer.json.id);
    }
    expect(createdIds.size).toBe(4);
  });

  it('never returns a provider apiKey, and stores it only encrypted', async () => {
    const created = await call('POST', '/providers', {
      body: { name: 'secretive', type: 'openai', apiKey: PROVIDER_SECRET },
    });
    expect(created.status).toBe(201);
    expect(created.json.hasApiKey).toBe(true);
    const answers = [
      created,
      await call('GET', `/providers/${created.json.id}`),
      await call('GET', `/providers/${ids.provider}`),
      await call('GET', '/providers'),
      await call('GET', '/routing-policies'),
    ];
    for (const answer of answers) {
      expect(answer.status).toBeLessThan(300);
      expect(answer.text).not.toContain(PROVIDER_SECRET);
      expect(answer.text).not.toContain('apiKey');
    }

    const rows = await server.gatehouse.storage.db
      .select()
      .from(providerCredentials)
      .where(eq(providerCredentials.id, created.json.id));
    expect(rows).toHaveLength(1);
    const ciphertext = rows[0]?.secretCiphertext;
    expect(ciphertext).toEqual(expect.any(String));
    const stored = JSON.stringify(rows);
    for (const encoding of ['utf8', 'base64', 'base64url', 'hex'] as const) {
      const encoded = encoding === 'utf8' ? PROVIDER_SECRET : Buffer.from(PROVIDER_SECRET).toString(encoding);
      expect(stored).not.toContain(encoded);
    }
    // Two credentials with the same key do not share a ciphertext (a fresh nonce each time).
    const twin = await call('POST', '/providers', {
      body: { name: 'twin', type: 'openai', apiKey: PROVIDER_SECRET },
    });
    const [twinRow] = await server.gatehouse.storage.db
      .select()
      .from(providerCredentials)
      .where(eq(providerCredentials.id, twin.json.id));
    expect(twinRow?.secretCiphertext).not.toBe(ciphertext);
  });

  it('shows a virtual key once, in the creation response only, and stores only a keyed hash', async () => {
    const created = await call('POST', '/virtual-keys', {
      body: { projectId: ids.project, name: 'shown once' },
    });
    expect(created.status).toBe(201);
    const key: string = created.json.key;
    expect(key).toMatch(/^gth_/);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(key.endsWith(created.json.hint.slice(-4))).toBe(true);

    const later = [
      await call('GET', `/virtual-keys/${created.json.id}`),
      await call('GET', '/virtual-keys'),
      await call('GET', `/virtual-keys?projectId=${ids.project}`),
      await call('GET', `/projects/${ids.project}`),
    ];
    for (const answer of later) {
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain(key);
      expect(answer.text).not.toContain(key.slice(4, 20));
    }
    expect(later[0]?.json).not.toHaveProperty('key');

    const [row] = await server.gatehouse.storage.db
      .select()
      .from(virtualKeys)
      .where(eq(virtualKeys.id, created.json.id));
    expect(row?.keyHash).toEqual(expect.any(String));
    expect(row?.keyHash).not.toBe(key);
    expect(JSON.stringify(row)).not.toContain(key);
    // Keyed: not a plain digest anyone could compute from a guessed key.
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      expect(row?.keyHash).not.toBe(createHash('sha256').update(key).digest(encoding));
    }

    const revoked = await call('DELETE', `/virtual-keys/${created.json.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).toEqual(expect.any(String));
    expect(revoked.text).not.toContain(key);
  });

  it('refuses a routing policy naming an unknown provider with 400, and creates nothing', async () => {
    const before = (await call('GET', '/routing-policies')).json.data.length;
    const answer = await call('POST', '/routing-policies', {
      body: { name: 'ghost', providers: [ids.provider, 'prov_does_not_exist'] },
    });
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toContain('prov_does_not_exist');
    expect((await call('GET', '/routing-policies')).json.data).toHaveLength(before);
  });

  it('refuses a project naming an unknown routing policy with 400', async () => {
    const answer = await call('POST', '/projects', { body: { name: 'orphan', routingPolicyId: 'rp_nope' } });
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toContain('rp_nope');
  });

  it('refuses to delete a provider a routing policy uses (409), and deletes an unused one', async () => {
    const inUse = await call('DELETE', `/providers/${ids.provider}`);
    expect(inUse.status).toBe(409);
    expect(inUse.json.error.message).toContain(ids.policy);
    expect((await call('GET', `/providers/${ids.provider}`)).status).toBe(200);

    const spare = await call('POST', '/providers', { body: { name: 'spare', type: 'openai' } });
    const deleted = await call('DELETE', `/providers/${spare.json.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await call('GET', `/providers/${spare.json.id}`)).status).toBe(404);
    expect((await call('DELETE', `/providers/${spare.json.id}`)).status).toBe(404);
  });

  it.each([
    ['GET', '/providers/prov_unknown'],
    ['GET', '/routing-policies/rp_unknown'],
    ['GET', '/projects/proj_unknown'],
    ['GET', '/virtual-keys/vk_unknown'],
    ['DELETE', '/virtual-keys/vk_unknown'],
    ['DELETE', '/providers/prov_unknown'],
  ])('%s %s → 404', async (method, path) => {
    const answer = await call(method, path);
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual({
      error: { code: 'not_found', message: expect.stringMatching(/not found/) },
    });
  });

  it('answers an unknown admin path with 404', async () => {
    const answer = await call('GET', '/widgets');
    expect(answer.status).toBe(404);
    expect(answer.json.error.code).toBe('not_found');
  });
});
