import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_UPSTREAM_API_KEY } from './mock-upstream/mock-upstream.js';
import { eventually, type QuickStartGateway, startQuickStartGateway } from './support/harness.js';

/**
 * `GET /api/admin/usage` tells served calls from Gatehouse's refusals and from failures, filters
 * by who, what and when, and gives money exact: what was metered, without float noise.
 */

let gateway: QuickStartGateway;
/** Project "served" holds a served call, an upstream 500 and a model refusal; "budgeted" a 402; "limited" a 429. */
const ids = {
  policy: '',
  team: '',
  servedProject: '',
  servedKey: '',
  budgetedKey: '',
  limitedKey: '',
  providerId: '',
};
const startedAt = new Date();

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever the endpoint returns.
const admin = (method: string, path: string, body?: unknown): Promise<any> =>
  gateway.server.admin(method, path, body);

async function chatStatus(key: string, model = 'gpt-4o-mini'): Promise<number> {
  const response = await fetch(`${gateway.server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Usage rows, once the ledger holds `events` calls for the query's scope. */
async function usage(query: string, events: number) {
  const report = await eventually(
    async () => {
      await gateway.server.flushUsage();
      return admin('GET', `/usage${query}`);
    },
    (found) =>
      found.rows.reduce(
        (sum: number, row: { requests: number; refused: number; errors: number }) =>
          sum + row.requests + row.refused + row.errors,
        0,
      ) >= events,
  );
  return report;
}

async function keyFor(name: string, routingPolicyId?: string) {
  const project = await admin('POST', '/projects', { name, routingPolicyId });
  const key = await admin('POST', '/virtual-keys', { projectId: project.id, name });
  return { projectId: project.id as string, keyId: key.id as string, key: key.key as string };
}

let keys: { served: string; budgeted: string; limited: string };

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  const provider = await admin('POST', '/providers', {
    name: 'metered',
    type: 'openai',
    baseUrl: `${gateway.mock.url}/v1`,
    apiKey: MOCK_UPSTREAM_API_KEY,
    models: ['gpt-4o-mini'],
    priceOverrides: { 'gpt-4o-mini': { inputPerMTok: 0.3, outputPerMTok: 0 } },
  });
  const policy = await admin('POST', '/routing-policies', { name: 'metered', providers: [provider.id] });
  const team = await admin('POST', '/teams', { name: 'usage team' });
  const served = await keyFor('served', policy.id);
  await admin('PATCH', `/projects/${served.projectId}`, { teamId: team.id });
  const budgeted = await keyFor('budgeted');
  await admin('POST', '/budgets', {
    scope: 'project',
    scopeId: budgeted.projectId,
    limitUsd: 0.000001,
    window: 'day',
    action: 'block',
  });
  const limited = await keyFor('limited', policy.id);
  await admin('POST', '/rate-limits', { scope: 'key', scopeId: limited.keyId, requestsPerMinute: 1 });
  Object.assign(ids, {
    policy: policy.id,
    team: team.id,
    servedProject: served.projectId,
    servedKey: served.keyId,
    budgetedKey: budgeted.keyId,
    limitedKey: limited.keyId,
    providerId: provider.id,
  });
  keys = { served: served.key, budgeted: budgeted.key, limited: limited.key };

  expect(await chatStatus(keys.served)).toBe(200);
  gateway.mock.enqueue({ status: 500 });
  expect(await chatStatus(keys.served)).toBe(500);
  // The policy's only credential does not serve gpt-4o: a model refusal.
  expect(await chatStatus(keys.served, 'gpt-4o')).toBe(404);
  expect(await chatStatus(keys.budgeted)).toBe(402);
  expect(await chatStatus(keys.limited)).toBe(200);
  expect(await chatStatus(keys.limited)).toBe(429);
});
afterAll(() => gateway?.close());

describe('GET /usage', () => {
  it('counts served, refused and failed calls apart', async () => {
    const report = await usage(`?groupBy=project&projectId=${ids.servedProject}`, 3);
    expect(report.groupBy).toBe('project');
    expect(report.rows).toEqual([
      expect.objectContaining({ group: ids.servedProject, requests: 1, refused: 1, errors: 1 }),
    ]);
    const limited = await usage(`?groupBy=key&keyId=${ids.limitedKey}`, 2);
    expect(limited.rows).toEqual([
      expect.objectContaining({ group: ids.limitedKey, requests: 1, refused: 1, errors: 0 }),
    ]);
  });

  it('groups by model when groupBy is left out', async () => {
    const report = await usage(`?projectId=${ids.servedProject}&status=errors`, 1);
    expect(report.groupBy).toBe('model');
    expect(report.rows).toEqual([
      expect.objectContaining({ group: 'gpt-4o-mini', requests: 0, refused: 0, errors: 1 }),
    ]);
  });

  it('filters by status, key, principal, team, model, provider and time', async () => {
    const refused = await usage('?groupBy=key&status=refused', 3);
    expect(refused.rows.map((row: { group: string }) => row.group).sort()).toEqual(
      [ids.servedKey, ids.budgetedKey, ids.limitedKey].sort(),
    );
    for (const row of refused.rows) expect(row).toMatchObject({ requests: 0, refused: 1, errors: 0 });

    const budgeted = await usage(`?groupBy=key&keyId=${ids.budgetedKey}`, 1);
    expect(budgeted.rows).toEqual([expect.objectContaining({ requests: 0, refused: 1, errors: 0 })]);
    // A service key is its own principal.
    const principal = await usage(`?groupBy=principal&principalId=${ids.servedKey}`, 3);
    expect(principal.rows).toEqual([expect.objectContaining({ group: ids.servedKey, requests: 1 })]);
    const team = await usage(`?groupBy=team&teamId=${ids.team}`, 3);
    expect(team.rows).toEqual([
      expect.objectContaining({ group: ids.team, requests: 1, refused: 1, errors: 1 }),
    ]);
    const model = await usage(`?groupBy=project&model=gpt-4o&projectId=${ids.servedProject}`, 1);
    expect(model.rows).toEqual([expect.objectContaining({ requests: 0, refused: 1, errors: 0 })]);
    const provider = await usage(`?groupBy=provider&providerId=${ids.providerId}&status=served`, 2);
    expect(provider.rows).toEqual([expect.objectContaining({ group: ids.providerId, requests: 2 })]);

    const before = encodeURIComponent(new Date(startedAt.getTime() - 60_000).toISOString());
    expect((await admin('GET', `/usage?groupBy=key&to=${before}`)).rows).toEqual([]);
    const since = encodeURIComponent(startedAt.toISOString());
    const all = await usage(`?groupBy=key&from=${since}`, 6);
    expect(all.rows.length).toBeGreaterThanOrEqual(3);
  });
});

describe('money in admin answers', () => {
  it('comes back exactly as metered: 0.0003933, not 0.00039329999999999996', async () => {
    const money = await keyFor('money', ids.policy);
    const budget = await admin('POST', '/budgets', {
      scope: 'project',
      scopeId: money.projectId,
      limitUsd: 1,
      window: 'total',
      action: 'alert',
    });
    // 437 input tokens at $0.30 per million: $0.0001311 a call, three calls.
    for (let call = 0; call < 3; call++) {
      gateway.mock.enqueue({ usage: { inputTokens: 437, outputTokens: 0 } });
      expect(await chatStatus(money.key)).toBe(200);
    }
    expect(0.0001311 + 0.0001311 + 0.0001311).not.toBe(0.0003933);
    const report = await usage(`?groupBy=project&projectId=${money.projectId}`, 3);
    expect(report.rows).toEqual([expect.objectContaining({ requests: 3, inputTokens: 1311 })]);
    expect(report.rows[0].costUsd).toBe(0.0003933);

    const status = await eventually(
      () => admin('GET', `/budgets/${budget.id}`),
      (found) => found.spentUsd > 0,
    );
    // Budget counters are kept in whole micro-dollars by the hot state; what comes back is that
    // amount, free of float noise, in the single read and the list alike.
    expect(status.spentUsd).toBeCloseTo(0.0003933, 6);
    const noise = /\d\.\d*(0000000|9999999)\d*/;
    for (const field of ['limitUsd', 'spentUsd', 'reservedUsd', 'remainingUsd']) {
      expect(String(status[field]), field).not.toMatch(noise);
    }
    expect(status.remainingUsd).toBe(Number((1 - status.spentUsd - status.reservedUsd).toFixed(9)));
    const listed = (await admin('GET', '/budgets')).data.find((row: { id: string }) => row.id === budget.id);
    expect(listed.spentUsd).toBe(status.spentUsd);
  });
});
