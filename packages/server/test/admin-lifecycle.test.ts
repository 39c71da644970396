import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MOCK_UPSTREAM_API_KEY } from './mock-upstream/mock-upstream.js';
import {
  ADMIN_TOKEN,
  createPersonalCaller,
  type QuickStartGateway,
  startQuickStartGateway,
} from './support/harness.js';

/**
 * The admin API undoes what it did: every resource is created, changed and deleted; deleting
 * what is in use, naming what does not exist and reusing a name are refused, each saying why.
 */

let gateway: QuickStartGateway;

beforeAll(async () => {
  gateway = await startQuickStartGateway();
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.mock.reset());

interface Answer {
  status: number;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the endpoint returns.
  json: any;
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${gateway.server.url}/api/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: text === '' ? undefined : JSON.parse(text) };
}

function chat(key: string, model = 'gpt-4o-mini') {
  return fetch(`${gateway.server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 }),
  });
}

async function chatStatus(key: string, model?: string): Promise<number> {
  const response = await chat(key, model);
  await response.arrayBuffer();
  return response.status;
}

/** A provider on the mock, a policy of its own, a project on it and a service key. */
async function ownSetup(name: string, provider: Record<string, unknown> = {}) {
  const created = await call('POST', '/providers', {
    name,
    type: 'openai',
    baseUrl: `${gateway.mock.url}/v1`,
    apiKey: MOCK_UPSTREAM_API_KEY,
    models: ['gpt-4o-mini'],
    ...provider,
  });
  expect(created.status).toBe(201);
  const policy = await call('POST', '/routing-policies', { name, providers: [created.json.id] });
  const project = await call('POST', '/projects', { name, routingPolicyId: policy.json.id });
  const key = await call('POST', '/virtual-keys', { projectId: project.json.id, name });
  return {
    providerId: created.json.id as string,
    policyId: policy.json.id as string,
    projectId: project.json.id as string,
    keyId: key.json.id as string,
    key: key.json.key as string,
  };
}

describe('providers', () => {
  it('are created, changed and deleted; secrets are written, never read', async () => {
    const created = await call('POST', '/providers', { name: 'spare', type: 'openai', models: ['gpt-4o'] });
    expect(created.status).toBe(201);
    const patched = await call('PATCH', `/providers/${created.json.id}`, {
      name: 'spare renamed',
      baseUrl: 'https://llm.example.com/v1',
      models: ['gpt-4o', 'gpt-4o-mini'],
      apiKey: 'sk-new-secret-value-1234',
      priceOverrides: { 'gpt-4o': { inputPerMTok: 1, outputPerMTok: 2 } },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      id: created.json.id,
      name: 'spare renamed',
      type: 'openai',
      baseUrl: 'https://llm.example.com/v1',
      models: ['gpt-4o', 'gpt-4o-mini'],
      hasApiKey: true,
      priceOverrides: { 'gpt-4o': { inputPerMTok: 1, outputPerMTok: 2 } },
    });
    expect(patched.text).not.toContain('sk-new-secret-value-1234');
    expect((await call('GET', `/providers/${created.json.id}`)).json).toEqual(patched.json);
    // null clears what may be empty.
    const priced = await call('PATCH', `/providers/${created.json.id}`, {
      defaultPrice: { inputPerMTok: 3, outputPerMTok: 15 },
    });
    expect(priced.json.defaultPrice).toEqual({ inputPerMTok: 3, outputPerMTok: 15 });
    const cleared = await call('PATCH', `/providers/${created.json.id}`, {
      baseUrl: null,
      models: null,
      defaultPrice: null,
    });
    expect(cleared.json).toMatchObject({ baseUrl: null, models: null, defaultPrice: null });

    expect((await call('DELETE', `/providers/${created.json.id}`)).status).toBe(204);
    expect((await call('GET', `/providers/${created.json.id}`)).status).toBe(404);
    expect((await call('PATCH', `/providers/${created.json.id}`, { name: 'ghost' })).status).toBe(404);
  });

  it('refuses to delete one a routing policy, budget or rate limit names (409, naming them)', async () => {
    const inPolicy = await call('DELETE', `/providers/${gateway.setup.openAiProviderId}`);
    expect(inPolicy.status).toBe(409);
    expect(inPolicy.json.error.code).toBe('in_use');
    expect(inPolicy.json.error.message).toContain(gateway.setup.policyId);

    const lone = await call('POST', '/providers', { name: 'budgeted', type: 'anthropic' });
    const budget = await call('POST', '/budgets', {
      scope: 'org',
      scopeId: 'org_default',
      limitUsd: 100,
      window: 'month',
      action: 'alert',
      providerId: lone.json.id,
    });
    const limit = await call('POST', '/rate-limits', {
      scope: 'provider',
      scopeId: lone.json.id,
      requestsPerMinute: 100,
    });
    const refused = await call('DELETE', `/providers/${lone.json.id}`);
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain(budget.json.id);
    expect(refused.json.error.message).toContain(limit.json.id);
    await call('DELETE', `/budgets/${budget.json.id}`);
    await call('DELETE', `/rate-limits/${limit.json.id}`);
    expect((await call('DELETE', `/providers/${lone.json.id}`)).status).toBe(204);
  });

  it('refuses a duplicate name with 409, on create and on rename', async () => {
    const taken = await call('POST', '/providers', { name: 'MOCK-OPENAI', type: 'openai' });
    expect(taken.status).toBe(409);
    expect(taken.json.error).toEqual({
      code: 'already_exists',
      message: expect.stringContaining('MOCK-OPENAI'),
    });
    const other = await call('POST', '/providers', { name: 'unique one', type: 'openai' });
    const renamed = await call('PATCH', `/providers/${other.json.id}`, { name: 'mock-anthropic' });
    expect(renamed.status).toBe(409);
    // Renaming to its own name is no conflict.
    expect((await call('PATCH', `/providers/${other.json.id}`, { name: 'unique one' })).status).toBe(200);
  });

  it('refuses a change that leaves the credential unusable (400 naming the field)', async () => {
    const azure = await call('POST', '/providers', {
      name: 'azure',
      type: 'azure',
      baseUrl: 'https://example.openai.azure.com',
      apiKey: 'azure-key',
    });
    expect(azure.status).toBe(201);
    const noBase = await call('PATCH', `/providers/${azure.json.id}`, { baseUrl: null });
    expect(noBase.status).toBe(400);
    expect(noBase.json.error.message).toContain('baseUrl');
    const bedrock = await call('POST', '/providers', {
      name: 'bedrock',
      type: 'bedrock',
      region: 'us-east-1',
    });
    expect(bedrock.status).toBe(400);
    expect(bedrock.json.error.message).toContain('accessKeyId');
    expect((await call('PATCH', `/providers/${azure.json.id}`, { type: 'openai' })).status).toBe(400);
  });

  it('rotates the secret: the very next gateway call uses the new one', async () => {
    const own = await ownSetup('rotation');
    expect(await chatStatus(own.key)).toBe(200);
    expect(gateway.mock.requests.at(-1)?.headers.authorization).toBe(`Bearer ${MOCK_UPSTREAM_API_KEY}`);

    const rotated = await call('PATCH', `/providers/${own.providerId}`, { apiKey: 'sk-rotated-away' });
    expect(rotated.status).toBe(200);
    expect(rotated.text).not.toContain('sk-rotated-away');
    // The mock accepts only its own key: the cached credential was dropped at once.
    expect(await chatStatus(own.key)).toBe(401);
    expect(gateway.mock.requests.at(-1)?.headers.authorization).toBe('Bearer sk-rotated-away');

    await call('PATCH', `/providers/${own.providerId}`, { apiKey: MOCK_UPSTREAM_API_KEY });
    expect(await chatStatus(own.key)).toBe(200);
  });
});

describe('routing policies', () => {
  it('are created, changed and deleted', async () => {
    const created = await call('POST', '/routing-policies', {
      name: 'lifecycle',
      providers: [gateway.setup.openAiProviderId],
      allowedModels: ['gpt-*'],
    });
    expect(created.status).toBe(201);
    const patched = await call('PATCH', `/routing-policies/${created.json.id}`, {
      name: 'lifecycle renamed',
      providers: [gateway.setup.anthropicProviderId, gateway.setup.openAiProviderId],
      allowedModels: null,
      modelAliases: { fast: 'claude-haiku-4-5' },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      name: 'lifecycle renamed',
      providers: [gateway.setup.anthropicProviderId, gateway.setup.openAiProviderId],
      allowedModels: null,
      modelAliases: { fast: 'claude-haiku-4-5' },
      isDefault: false,
    });
    expect((await call('DELETE', `/routing-policies/${created.json.id}`)).status).toBe(204);
    expect((await call('GET', `/routing-policies/${created.json.id}`)).status).toBe(404);
  });

  it('refuses an unknown provider id (400) and a duplicate name (409)', async () => {
    const unknown = await call('PATCH', `/routing-policies/${gateway.setup.policyId}`, {
      providers: ['prov_nowhere'],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toContain('prov_nowhere');
    expect(unknown.json.error.message).toContain('providers');
    const duplicate = await call('POST', '/routing-policies', {
      name: 'Default',
      providers: [gateway.setup.openAiProviderId],
    });
    expect(duplicate.status).toBe(409);
  });

  it('refuses to delete one a project uses, or the default while projects inherit it (409)', async () => {
    const own = await ownSetup('policy in use');
    const used = await call('DELETE', `/routing-policies/${own.policyId}`);
    expect(used.status).toBe(409);
    expect(used.json.error.message).toContain(own.projectId);

    const byDefault = await call('DELETE', `/routing-policies/${gateway.setup.policyId}`);
    expect(byDefault.status).toBe(409);
    expect(byDefault.json.error.message).toContain(gateway.setup.projectId);
    const unset = await call('PATCH', `/routing-policies/${gateway.setup.policyId}`, { isDefault: false });
    expect(unset.status).toBe(409);
    expect(unset.json.error.message).toContain(gateway.setup.projectId);
    expect(await chatStatus(gateway.setup.key)).toBe(200);
  });

  it('moves the default: the new one takes over, the old one is free to go', async () => {
    const successor = await call('POST', '/routing-policies', {
      name: 'successor',
      providers: [gateway.setup.openAiProviderId],
    });
    const promoted = await call('PATCH', `/routing-policies/${successor.json.id}`, { isDefault: true });
    expect(promoted.json.isDefault).toBe(true);
    expect((await call('GET', `/routing-policies/${gateway.setup.policyId}`)).json.isDefault).toBe(false);
    expect(await chatStatus(gateway.setup.key)).toBe(200);
    // Put things back for the other tests.
    await call('PATCH', `/routing-policies/${gateway.setup.policyId}`, { isDefault: true });
    expect((await call('DELETE', `/routing-policies/${successor.json.id}`)).status).toBe(204);
  });
});

describe('projects', () => {
  it('are created, changed and deleted once no live key is left (dead keys go with them)', async () => {
    const team = await call('POST', '/teams', { name: 'project owners' });
    const created = await call('POST', '/projects', { name: 'short-lived' });
    expect(created.json).toMatchObject({ routingPolicyId: null, teamId: null });
    const patched = await call('PATCH', `/projects/${created.json.id}`, {
      name: 'short-lived, renamed',
      routingPolicyId: gateway.setup.policyId,
      teamId: team.json.id,
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      name: 'short-lived, renamed',
      routingPolicyId: gateway.setup.policyId,
      teamId: team.json.id,
    });
    const key = await call('POST', '/virtual-keys', { projectId: created.json.id, name: 'only key' });
    const refused = await call('DELETE', `/projects/${created.json.id}`);
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain(key.json.id);

    await call('DELETE', `/virtual-keys/${key.json.id}`);
    // The team is still in use by the project.
    const teamInUse = await call('DELETE', `/teams/${team.json.id}`);
    expect(teamInUse.status).toBe(409);
    expect(teamInUse.json.error.message).toContain(created.json.id);

    expect((await call('DELETE', `/projects/${created.json.id}`)).status).toBe(204);
    expect((await call('GET', `/projects/${created.json.id}`)).status).toBe(404);
    expect((await call('GET', `/virtual-keys/${key.json.id}`)).status).toBe(404);
    expect((await call('DELETE', `/teams/${team.json.id}`)).status).toBe(204);
  });

  it('refuses a duplicate name (409), an unknown policy or team (400), and a budgeted project (409)', async () => {
    expect((await call('POST', '/projects', { name: 'Quick Start' })).status).toBe(409);
    const other = await call('POST', '/projects', { name: 'another' });
    expect((await call('PATCH', `/projects/${other.json.id}`, { name: 'quick start' })).status).toBe(409);
    const policy = await call('PATCH', `/projects/${other.json.id}`, { routingPolicyId: 'pol_nowhere' });
    expect(policy.status).toBe(400);
    expect(policy.json.error.message).toContain('routingPolicyId');
    const team = await call('PATCH', `/projects/${other.json.id}`, { teamId: 'team_nowhere' });
    expect(team.status).toBe(400);
    expect(team.json.error.message).toContain('teamId');

    const budget = await call('POST', '/budgets', {
      scope: 'project',
      scopeId: other.json.id,
      limitUsd: 5,
      window: 'day',
      action: 'block',
    });
    const refused = await call('DELETE', `/projects/${other.json.id}`);
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain(budget.json.id);
  });
});

describe('teams', () => {
  it('are created, renamed and deleted; one with members is refused (409, naming them)', async () => {
    const created = await call('POST', '/teams', { name: 'platform' });
    expect(created.status).toBe(201);
    expect((await call('POST', '/teams', { name: 'Platform' })).status).toBe(409);
    const renamed = await call('PATCH', `/teams/${created.json.id}`, { name: 'platform engineering' });
    expect(renamed.json).toMatchObject({ id: created.json.id, name: 'platform engineering' });
    expect((await call('DELETE', `/teams/${created.json.id}`)).status).toBe(204);
    expect((await call('PATCH', `/teams/${created.json.id}`, { name: 'gone' })).status).toBe(404);

    const person = await createPersonalCaller(gateway.server, 'dana');
    const refused = await call('DELETE', `/teams/${person.teamId}`);
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain(person.userId);
    expect((await call('PATCH', `/teams/${person.teamId}`, { name: 'platform engineering' })).status).toBe(
      200,
    );
  });
});

describe('virtual keys', () => {
  it('are renamed and given a new expiry, which the gateway sees at once', async () => {
    const own = await ownSetup('expiring');
    const renamed = await call('PATCH', `/virtual-keys/${own.keyId}`, { name: 'ci runner' });
    expect(renamed.json).toMatchObject({ name: 'ci runner', expiresAt: null });
    expect(renamed.text).not.toContain(own.key);
    expect(await chatStatus(own.key)).toBe(200);

    const past = new Date(Date.now() - 60_000).toISOString();
    const expired = await call('PATCH', `/virtual-keys/${own.keyId}`, { expiresAt: past });
    expect(Date.parse(expired.json.expiresAt)).toBe(Date.parse(past));
    expect(await chatStatus(own.key)).toBe(401);

    const extended = await call('PATCH', `/virtual-keys/${own.keyId}`, { expiresInSeconds: 3600 });
    expect(Date.parse(extended.json.expiresAt) - Date.now()).toBeGreaterThan(3500_000);
    expect(await chatStatus(own.key)).toBe(200);
    const forever = await call('PATCH', `/virtual-keys/${own.keyId}`, { expiresAt: null });
    expect(forever.json.expiresAt).toBeNull();
    expect((await call('GET', `/virtual-keys/${own.keyId}`)).json.name).toBe('ci runner');

    const both = await call('PATCH', `/virtual-keys/${own.keyId}`, { expiresAt: null, expiresInSeconds: 5 });
    expect(both.status).toBe(400);
    const revoked = await call('DELETE', `/virtual-keys/${own.keyId}`);
    expect(revoked.json.revokedAt).toEqual(expect.any(String));
    expect(await chatStatus(own.key)).toBe(401);
  });
});

describe('budgets', () => {
  it('are created, changed and deleted; lists show where each stands', async () => {
    const created = await call('POST', '/budgets', {
      scope: 'project',
      scopeId: gateway.setup.projectId,
      limitUsd: 10,
      window: 'month',
      action: 'alert',
    });
    expect(created.status).toBe(201);
    const patched = await call('PATCH', `/budgets/${created.json.id}`, {
      limitUsd: 25.5,
      name: 'quick start monthly',
      model: 'gpt-4o-mini',
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ limitUsd: 25.5, name: 'quick start monthly', model: 'gpt-4o-mini' });
    const listed = (await call('GET', '/budgets')).json.data.find(
      (budget: { id: string }) => budget.id === created.json.id,
    );
    expect(listed).toEqual({
      ...patched.json,
      spentUsd: expect.any(Number),
      reservedUsd: expect.any(Number),
      remainingUsd: expect.any(Number),
      windowStart: expect.any(String),
      resetsAt: expect.any(String),
    });
    expect(listed.remainingUsd).toBeLessThanOrEqual(25.5);
    expect((await call('GET', `/budgets/${created.json.id}`)).json).toEqual(listed);
    expect((await call('DELETE', `/budgets/${created.json.id}`)).status).toBe(204);
    expect((await call('PATCH', `/budgets/${created.json.id}`, { limitUsd: 1 })).status).toBe(404);
  });

  it.each([
    ['project', 'proj_nowhere'],
    ['team', 'team_nowhere'],
    ['key', 'vk_nowhere'],
    ['user', 'usr_nowhere'],
    ['org', 'org_someone_else'],
  ])('refuses a %s scopeId that names nothing here (400 naming scopeId)', async (scope, scopeId) => {
    const answer = await call('POST', '/budgets', {
      scope,
      scopeId,
      limitUsd: 1,
      window: 'day',
      action: 'block',
    });
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toContain('scopeId');
    expect(answer.json.error.message).toContain(scopeId);
  });

  it('refuses a providerId that names no credential (400 naming providerId)', async () => {
    const answer = await call('POST', '/budgets', {
      scope: 'org',
      scopeId: 'org_default',
      limitUsd: 1,
      window: 'day',
      action: 'alert',
      providerId: 'prov_nowhere',
    });
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toContain('providerId');
  });
});

describe('rate limits', () => {
  it('are created, changed and deleted', async () => {
    const created = await call('POST', '/rate-limits', {
      scope: 'project',
      scopeId: gateway.setup.projectId,
      requestsPerMinute: 1000,
    });
    expect(created.status).toBe(201);
    const patched = await call('PATCH', `/rate-limits/${created.json.id}`, {
      requestsPerMinute: null,
      tokensPerMinute: 500_000,
    });
    expect(patched.json).toMatchObject({ requestsPerMinute: null, tokensPerMinute: 500_000 });
    const empty = await call('PATCH', `/rate-limits/${created.json.id}`, { tokensPerMinute: null });
    expect(empty.status).toBe(400);
    expect(empty.json.error.message).toContain('tokensPerMinute');
    expect((await call('DELETE', `/rate-limits/${created.json.id}`)).status).toBe(204);
    expect((await call('GET', `/rate-limits/${created.json.id}`)).status).toBe(404);
  });

  it('refuses a scopeId that names nothing here (400 naming scopeId)', async () => {
    for (const scope of ['key', 'user', 'project', 'provider']) {
      const answer = await call('POST', '/rate-limits', {
        scope,
        scopeId: 'nowhere_1',
        requestsPerMinute: 1,
      });
      expect(answer.status, scope).toBe(400);
      expect(answer.json.error.message, scope).toContain('scopeId');
    }
  });
});
