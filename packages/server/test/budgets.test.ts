import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QuickStartGateway, startQuickStartGateway } from './support/harness.js';

let gateway: QuickStartGateway | undefined;

beforeAll(async () => {
  gateway = await startQuickStartGateway();
});
afterAll(() => gateway?.close());

describe('budgets in the admin API', () => {
  it('shows spent, remaining and reset time of the current window, from the usage ledger', async () => {
    const { server, setup } = gateway as QuickStartGateway;
    const budget = await server.admin('POST', '/budgets', {
      name: 'laptop',
      scope: 'key',
      scopeId: setup.keyId,
      limitUsd: 1,
      window: 'month',
      action: 'block',
    });
    expect(budget).toMatchObject({
      scope: 'key',
      scopeId: setup.keyId,
      limitUsd: 1,
      window: 'month',
      action: 'block',
    });

    const openai = new OpenAI({ apiKey: setup.key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    await server.flushUsage();

    const status = await server.admin('GET', `/budgets/${budget.id}`);
    expect(status.spentUsd).toBeGreaterThan(0);
    expect(status.remainingUsd).toBeCloseTo(1 - status.spentUsd - status.reservedUsd, 12);
    const now = new Date();
    expect(status.windowStart).toBe(
      new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString(),
    );
    expect(status.resetsAt).toBe(
      new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString(),
    );

    const listed = await server.admin('GET', '/budgets');
    expect(listed.data.map((entry: { id: string }) => entry.id)).toContain(budget.id);
    await server.admin('DELETE', `/budgets/${budget.id}`);
    await expect(server.admin('GET', `/budgets/${budget.id}`)).rejects.toThrow(/404/);
  });

  it('counts only the provider or model a budget is limited to, and never resets a total budget', async () => {
    const { server, setup } = gateway as QuickStartGateway;
    const otherModel = await server.admin('POST', '/budgets', {
      scope: 'project',
      scopeId: setup.projectId,
      limitUsd: 5,
      window: 'total',
      action: 'alert',
      model: 'gpt-4o-mini',
    });
    const status = await server.admin('GET', `/budgets/${otherModel.id}`);
    expect(status).toMatchObject({ spentUsd: 0, remainingUsd: 5, windowStart: null, resetsAt: null });
  });
});
