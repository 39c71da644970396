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

describe('the organisation time zone', () => {
  it('aligns budget windows to it once an admin sets it, and refuses zones that do not exist', async () => {
    const { server, setup } = gateway as QuickStartGateway;
    await expect(server.admin('PATCH', '/organization', { timeZone: 'Mars/Olympus_Mons' })).rejects.toThrow(
      /400/,
    );
    const organization = await server.admin('PATCH', '/organization', { timeZone: 'Asia/Tokyo' });
    expect(organization.timeZone).toBe('Asia/Tokyo');
    expect((await server.admin('GET', '/organization')).timeZone).toBe('Asia/Tokyo');
    const budget = await server.admin('POST', '/budgets', {
      scope: 'project',
      scopeId: setup.projectId,
      limitUsd: 5,
      window: 'day',
      action: 'alert',
    });
    const status = await server.admin('GET', `/budgets/${budget.id}`);
    // Local midnight in Tokyo (UTC+9, no daylight saving) is 15:00 UTC the day before.
    expect(status.windowStart).toMatch(/T15:00:00\.000Z$/);
    expect(Date.parse(status.resetsAt) - Date.parse(status.windowStart)).toBe(86_400_000);
    await server.admin('PATCH', '/organization', { timeZone: 'UTC' });
  });
});
