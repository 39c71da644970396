import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MockUpstream } from './mock-upstream/mock-upstream.js';
import { type QuickStartGateway, startQuickStartGateway, type TestGatehouse } from './support/harness.js';

/**
 * Block budgets hold: calls reserve their estimated cost before dispatch and settle to the
 * actual cost after, so concurrent calls cannot overspend by more than one call's cost.
 */
let gateway: QuickStartGateway | undefined;
let mock: MockUpstream;
let server: TestGatehouse;

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  ({ mock, server } = gateway);
});
afterAll(() => gateway?.close());
beforeEach(() => mock.reset());

/** gpt-4o at 1,000 input and 1,000 output tokens: about a cent per call. */
const USAGE = { inputTokens: 1_000, outputTokens: 1_000 };

async function keyWithBudget(budget: Record<string, unknown>) {
  const setup = (gateway as QuickStartGateway).setup;
  const key = await server.admin('POST', '/virtual-keys', { projectId: setup.projectId, name: 'budgeted' });
  const created = await server.admin('POST', '/budgets', { scope: 'key', scopeId: key.id, ...budget });
  return { key: key.key as string, keyId: key.id as string, budgetId: created.id as string };
}

function chat(key: string, content = 'hi') {
  return fetch(`${server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', max_tokens: 1_000, messages: [{ role: 'user', content }] }),
  });
}

describe('block budgets', () => {
  it('refuses with 402, x-should-retry: false and a message naming the budget and its reset, once spent', async () => {
    mock.setDefault({ usage: USAGE });
    const { key, budgetId } = await keyWithBudget({
      name: 'laptop',
      limitUsd: 0.05,
      window: 'day',
      action: 'block',
    });
    const remaining: number[] = [];
    let refused: Response | undefined;
    for (let attempt = 0; attempt < 20 && !refused; attempt++) {
      const response = await chat(key);
      if (response.status === 402) refused = response;
      else {
        expect(response.status).toBe(200);
        remaining.push(Number(response.headers.get('x-gatehouse-budget-remaining-usd')));
        await response.arrayBuffer();
      }
    }
    expect(refused?.headers.get('x-should-retry')).toBe('false');
    const body = await refused?.json();
    expect(body.error.code).toBe('budget_exhausted');
    expect(body.error.message).toMatch(
      /^Budget "laptop" of \$0\.05 per day is exhausted\. It resets at \d{4}-\d\d-\d\dT/,
    );
    expect(remaining.length).toBeGreaterThanOrEqual(3);
    expect(remaining).toEqual([...remaining].sort((a, b) => b - a)); // never goes up

    const status = await server.admin('GET', `/budgets/${budgetId}`);
    const oneCall = status.spentUsd / remaining.length;
    expect(status.spentUsd).toBeLessThanOrEqual(0.05 + oneCall);
    expect(status.reservedUsd).toBe(0);
  });

  it('answers an Anthropic client in its own error shape', async () => {
    const { key } = await keyWithBudget({ limitUsd: 0.000001, window: 'month', action: 'block' });
    const anthropic = new Anthropic({ apiKey: key, baseURL: `${server.url}/api`, maxRetries: 0 });
    const error = await anthropic.messages
      .create({ model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'billing_error' },
    });
    expect(mock.requests).toHaveLength(0);
  });

  it('holds under concurrency: settled spend stays within the limit plus one call', async () => {
    mock.setDefault({ usage: USAGE, eventDelayMs: 5 });
    const { key, budgetId } = await keyWithBudget({ limitUsd: 0.1, window: 'total', action: 'block' });
    // The bound holds when a reservation covers what the call then costs: the prompt weighs the
    // 1,000 input tokens the mock reports (about four characters a token), so the estimate
    // does. With 'hi' the reservations held only the output, and ten calls could fit in the gap.
    const prompt = 'word '.repeat(800);
    const statuses = await Promise.all(
      Array.from({ length: 40 }, () =>
        chat(key, prompt).then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        }),
      ),
    );
    const served = statuses.filter((status) => status === 200).length;
    expect(served).toBeGreaterThan(0);
    expect(statuses.filter((status) => status !== 200).every((status) => status === 402)).toBe(true);
    const status = await server.admin('GET', `/budgets/${budgetId}`);
    const oneCall = status.spentUsd / served;
    expect(status.spentUsd).toBeLessThanOrEqual(0.1 + oneCall + 1e-9);
    expect(status.reservedUsd).toBe(0);
  });

  it('never blocks on an alert budget', async () => {
    mock.setDefault({ usage: USAGE });
    const { key } = await keyWithBudget({ limitUsd: 0.000001, window: 'day', action: 'alert' });
    const openai = new OpenAI({ apiKey: key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    for (let index = 0; index < 3; index++) {
      const answer = await openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(answer.choices[0]?.message.content).toBe('Hello from the mock upstream.');
    }
  });

  it('charges a stream the client cut off for what was delivered', async () => {
    mock.enqueue({ eventDelayMs: 300, usage: USAGE });
    const { key, budgetId } = await keyWithBudget({ limitUsd: 10, window: 'month', action: 'block' });
    const controller = new AbortController();
    const response = await fetch(`${server.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-6',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      signal: controller.signal,
    });
    await (response.body as ReadableStream<Uint8Array>).getReader().read();
    controller.abort();
    let status = await server.admin('GET', `/budgets/${budgetId}`);
    for (let wait = 0; wait < 40 && status.spentUsd === 0; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await server.admin('GET', `/budgets/${budgetId}`);
    }
    expect(status.spentUsd).toBeGreaterThan(0);
    expect(status.reservedUsd).toBe(0);
  });
});
