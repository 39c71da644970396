import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addPersonalKey,
  createPersonalCaller,
  type PersonalCaller,
  type QuickStartGateway,
  startQuickStartGateway,
  type TestGatehouse,
} from './support/harness.js';

/** Off-boarding in one call: every key of a person's refused from the very next request. */
let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;
let leaving: PersonalCaller;
let staying: PersonalCaller;

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  server = gateway.server;
  leaving = await createPersonalCaller(server, 'mallory');
  staying = await createPersonalCaller(server, 'trent');
});
afterAll(() => gateway?.close());

function chat(key: string) {
  return fetch(`${server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

describe('revoking a person', () => {
  it('finds them by email, whatever its case', async () => {
    const found = await server.admin('GET', '/users?email=Mallory@Example.com');
    expect(found.data).toEqual([
      expect.objectContaining({ id: leaving.userId, email: 'mallory@example.com' }),
    ]);
  });

  it('refuses all of their keys on the next request, leaves others alone, and keeps their past usage', async () => {
    const second = await addPersonalKey(server, leaving.projectId, leaving.userId);
    for (const key of [leaving.key, second.key, staying.key]) expect((await chat(key)).status).toBe(200);

    const result = await server.admin('POST', `/users/${leaving.userId}/revoke-access`);
    expect(result).toEqual({ userId: leaving.userId, revokedKeys: 2 });

    for (const key of [leaving.key, second.key]) {
      const refused = await chat(key);
      expect(refused.status).toBe(401);
      expect((await refused.json()).error.code).toBe('key_revoked');
    }
    expect((await chat(staying.key)).status).toBe(200);

    await server.flushUsage();
    const byPerson = await server.admin('GET', '/usage?groupBy=principal');
    expect(byPerson.rows.find((row: { group: string }) => row.group === leaving.userId)).toMatchObject({
      requests: 2,
    });
  });

  it('answers 404 for someone who does not exist', async () => {
    await expect(server.admin('POST', '/users/usr_nobody/revoke-access')).rejects.toThrow(/404/);
  });
});
