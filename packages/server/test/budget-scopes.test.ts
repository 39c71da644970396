import { generateVirtualKey, virtualKeyHint } from '@gatehouse/core';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject } from '../src/store/projects.js';
import { projects, teams, users } from '../src/store/schema.js';
import { insertVirtualKey } from '../src/store/virtual-keys.js';
import { type QuickStartGateway, startQuickStartGateway, type TestGatehouse } from './support/harness.js';

/**
 * Every scope a budget can be set on: a tiny block budget on the scope refuses a call made
 * inside it, and leaves a call outside it alone.
 */
let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;

interface Caller {
  key: string;
  keyId: string;
  projectId: string;
  userId: string;
  teamId: string;
}
let inside: Caller;
let outside: Caller;

/** A user in a team, with a personal project and a personal key: what SSO sign-in will create. */
async function personalCaller(name: string): Promise<Caller> {
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
  const key = generateVirtualKey();
  const row = await insertVirtualKey(db, 'org_default', {
    projectId: project.id,
    name: 'laptop',
    kind: 'personal',
    userId,
    keyHash: server.gatehouse.box.hashVirtualKey(key),
    keyHint: virtualKeyHint(key),
  });
  return { key, keyId: row.id, projectId: project.id, userId, teamId };
}

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  server = gateway.server;
  inside = await personalCaller('ada');
  outside = await personalCaller('grace');
});
afterAll(() => gateway?.close());

function chat(caller: Caller) {
  return fetch(`${server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${caller.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

describe('budgets on every scope', () => {
  const cases: [string, () => string, boolean][] = [
    ['key', () => inside.keyId, true],
    ['user', () => inside.userId, true],
    ['project', () => inside.projectId, true],
    ['team', () => inside.teamId, true],
    ['org', () => 'org_default', false],
  ];
  it.each(cases)(
    'a %s budget refuses calls inside its scope only',
    async (scope, scopeId, outsideUnaffected) => {
      const budget = await server.admin('POST', '/budgets', {
        scope,
        scopeId: scopeId(),
        limitUsd: 0.000001,
        window: 'day',
        action: 'block',
      });
      try {
        const refused = await chat(inside);
        expect(refused.status).toBe(402);
        await refused.arrayBuffer();
        const other = await chat(outside);
        expect(other.status).toBe(outsideUnaffected ? 200 : 402);
        await other.arrayBuffer();
      } finally {
        await server.admin('DELETE', `/budgets/${budget.id}`);
      }
      expect((await chat(inside)).status).toBe(200);
    },
  );

  it('charges a personal key to its person, across both of their keys', async () => {
    const db = server.gatehouse.storage.db;
    const secondKey = generateVirtualKey();
    await insertVirtualKey(db, 'org_default', {
      projectId: inside.projectId,
      name: 'desktop',
      kind: 'personal',
      userId: inside.userId,
      keyHash: server.gatehouse.box.hashVirtualKey(secondKey),
      keyHint: virtualKeyHint(secondKey),
    });
    const budget = await server.admin('POST', '/budgets', {
      scope: 'user',
      scopeId: inside.userId,
      limitUsd: 0.000001,
      window: 'day',
      action: 'block',
    });
    try {
      const response = await chat({ ...inside, key: secondKey });
      expect(response.status).toBe(402);
    } finally {
      await server.admin('DELETE', `/budgets/${budget.id}`);
    }
  });
});
