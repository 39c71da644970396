import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addPersonalKey,
  createPersonalCaller,
  type PersonalCaller,
  type QuickStartGateway,
  startQuickStartGateway,
  type TestGatehouse,
} from './support/harness.js';

/**
 * Every scope a budget can be set on: a tiny block budget on the scope refuses a call made
 * inside it, and leaves a call outside it alone.
 */
let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;

let inside: PersonalCaller;
let outside: PersonalCaller;

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  server = gateway.server;
  inside = await createPersonalCaller(server, 'ada');
  outside = await createPersonalCaller(server, 'grace');
});
afterAll(() => gateway?.close());

function chat(caller: PersonalCaller) {
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
    const { key: secondKey } = await addPersonalKey(server, inside.projectId, inside.userId);
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
