import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MockUpstream } from './mock-upstream/mock-upstream.js';
import { MOCK_UPSTREAM_API_KEY, startMockUpstream } from './mock-upstream/mock-upstream.js';
import {
  ADMIN_TOKEN,
  canStartCluster,
  createPersonalCaller,
  eventually,
  type QuickStart,
  type QuickStartGateway,
  startQuickStartGateway,
  startTestCluster,
  type TestGatehouse,
} from './support/harness.js';

let server: TestGatehouse;
let setup: QuickStart;
let gateway: QuickStartGateway | undefined;

beforeAll(async () => {
  // A long key cache: the old secret must be refused because the cache is dropped, not because it aged out.
  gateway = await startQuickStartGateway({ GATEHOUSE_KEY_CACHE_TTL_MS: '600000' });
  ({ server, setup } = gateway);
});
afterAll(() => gateway?.close());

function chat(instance: TestGatehouse, key: string) {
  return fetch(`${instance.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

/** The admin API's answer with its status, for refusals the harness's `admin` would throw on. */
async function adminCall(method: string, path: string) {
  const response = await fetch(`${server.url}/api/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return { status: response.status, body: await response.json() };
}

describe('rotating a virtual key', () => {
  it('refuses the old secret at once, serves the new one, and keeps the key and its history', async () => {
    const created = await server.admin('POST', '/virtual-keys', { projectId: setup.projectId, name: 'ci' });
    expect((await chat(server, created.key)).status).toBe(200); // the old secret is now cached as valid

    const rotated = await server.admin('POST', `/virtual-keys/${created.id}/rotate`);
    expect(rotated).toMatchObject({
      id: created.id,
      projectId: setup.projectId,
      name: 'ci',
      revokedAt: null,
    });
    expect(rotated.key).toMatch(/^gth_[0-9A-Za-z]{38}$/);
    expect(rotated.key).not.toBe(created.key);
    expect(rotated.hint).not.toBe(created.hint);

    const old = await chat(server, created.key);
    expect(old.status).toBe(401);
    expect((await old.json()).error.type).toBe('invalid_request_error');
    expect((await chat(server, rotated.key)).status).toBe(200);

    // Both calls are the same key's usage: one id before and after.
    await server.flushUsage();
    const usage = await eventually(
      () => server.admin('GET', `/usage?groupBy=key&keyId=${created.id}`),
      (report) => report.rows[0]?.requests === 2,
    );
    expect(usage.rows).toMatchObject([{ group: created.id, requests: 2 }]);

    // Listed and read with the new hint only; the secret itself never again.
    const listed = await server.admin('GET', `/virtual-keys/${created.id}`);
    expect(listed.hint).toBe(rotated.hint);
    expect(JSON.stringify(await server.admin('GET', '/virtual-keys'))).not.toContain(rotated.key);
  });

  it('records the rotation in the audit log without the secret', async () => {
    const created = await server.admin('POST', '/virtual-keys', {
      projectId: setup.projectId,
      name: 'audited',
    });
    const rotated = await server.admin('POST', `/virtual-keys/${created.id}/rotate`);
    const log = await server.admin('GET', `/audit?action=virtual_key.rotate&targetId=${created.id}`);
    expect(log.data).toHaveLength(1);
    expect(log.data[0]).toMatchObject({
      action: 'virtual_key.rotate',
      targetType: 'virtual_key',
      targetId: created.id,
      after: { id: created.id, key: '[redacted]', hint: rotated.hint },
    });
    expect(JSON.stringify(log)).not.toContain(rotated.key);
    expect(JSON.stringify(await server.admin('GET', '/audit'))).not.toContain(rotated.key);
  });

  it('refuses personal, revoked and unknown keys with a reason', async () => {
    const person = await createPersonalCaller(server, 'rotator');
    const personal = await adminCall('POST', `/virtual-keys/${person.keyId}/rotate`);
    expect(personal.status).toBe(409);
    expect(personal.body.error).toMatchObject({
      code: 'personal_key',
      message: expect.stringContaining('revoke'),
    });
    expect((await chat(server, person.key)).status).toBe(200); // untouched

    const created = await server.admin('POST', '/virtual-keys', { projectId: setup.projectId, name: 'gone' });
    await server.admin('DELETE', `/virtual-keys/${created.id}`);
    const revoked = await adminCall('POST', `/virtual-keys/${created.id}/rotate`);
    expect(revoked.status).toBe(409);
    expect(revoked.body.error.code).toBe('key_revoked');

    const unknown = await adminCall('POST', '/virtual-keys/vk_missing/rotate');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });
});

describe('listing keys by person', () => {
  it("lists only that person's keys, and names the person on each", async () => {
    const ann = await createPersonalCaller(server, 'ann');
    const bob = await createPersonalCaller(server, 'bob');
    const anns = await server.admin('GET', `/virtual-keys?userId=${ann.userId}`);
    expect(anns.data.map((key: { id: string }) => key.id)).toEqual([ann.keyId]);
    expect(anns.data[0]).toMatchObject({ kind: 'personal', userId: ann.userId });
    const all = await server.admin('GET', '/virtual-keys');
    expect(all.data.map((key: { id: string }) => key.id)).toEqual(
      expect.arrayContaining([ann.keyId, bob.keyId]),
    );

    const misspelt = await adminCall('GET', `/virtual-keys?user=${ann.userId}`);
    expect(misspelt.status).toBe(400);
    expect(misspelt.body.error.message).toContain('user');
  });
});

describe.skipIf(!canStartCluster)('rotating across gateway instances', () => {
  let mock: MockUpstream;
  let instances: TestGatehouse[] = [];

  beforeAll(async () => {
    mock = await startMockUpstream();
    instances = await startTestCluster(2, { GATEHOUSE_KEY_CACHE_TTL_MS: '600000' });
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close();
    await mock?.close();
  });

  it('refuses the old secret on the other instance within a second', async () => {
    const [first, second] = instances as [TestGatehouse, TestGatehouse];
    const provider = await first.admin('POST', '/providers', {
      name: 'mock',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o-mini'],
    });
    await first.admin('POST', '/routing-policies', {
      name: 'default',
      providers: [provider.id],
      isDefault: true,
    });
    const project = await first.admin('POST', '/projects', { name: 'rotation' });
    const key = await first.admin('POST', '/virtual-keys', { projectId: project.id, name: 'rotation' });
    expect((await chat(second, key.key)).status).toBe(200);

    const rotatedAt = Date.now();
    const rotated = await first.admin('POST', `/virtual-keys/${key.id}/rotate`);
    let status = 200;
    while (status === 200 && Date.now() - rotatedAt < 1_000) {
      status = (await chat(second, key.key)).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(401);
    expect((await chat(second, rotated.key)).status).toBe(200);
  });
});
