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
    expect(result).toEqual({ userId: leaving.userId, revokedKeys: 2, revokedGrants: 0, revokedSessions: 0 });

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

describe('teams set by an administrator', () => {
  it('moves a person and their personal project into a team, whose budget then governs them', async () => {
    const moving = await createPersonalCaller(server, 'walter');
    const team = await server.admin('POST', '/teams', { name: 'research' });
    expect(team).toMatchObject({ id: expect.stringMatching(/^team_/), name: 'research' });
    expect((await server.admin('GET', '/teams')).data).toContainEqual(
      expect.objectContaining({ id: team.id }),
    );

    const moved = await server.admin('PATCH', `/users/${moving.userId}`, { teamId: team.id });
    expect(moved).toMatchObject({ id: moving.userId, teamId: team.id });
    expect((await chat(moving.key)).status).toBe(200);

    // A budget on the team: already spent through, so the member's next call is refused.
    await server.admin('POST', '/budgets', {
      scope: 'team',
      scopeId: team.id,
      limitUsd: 0.000001,
      window: 'day',
      action: 'block',
    });
    await server.flushUsage();
    const refused = await chat(moving.key);
    expect(refused.status).toBe(402);
    expect((await chat(staying.key)).status).toBe(200);
  });

  it('refuses a team that does not exist', async () => {
    await expect(server.admin('PATCH', `/users/${staying.userId}`, { teamId: 'team_nope' })).rejects.toThrow(
      /400/,
    );
  });
});
