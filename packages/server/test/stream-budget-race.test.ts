import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MockUpstream } from './mock-upstream/mock-upstream.js';
import { type QuickStartGateway, startQuickStartGateway, type TestGatehouse } from './support/harness.js';

/**
 * Slow concurrent streams against one block budget: the reservation covers each call as the
 * gateway sends it, so settled spend passes the limit by at most one call, also when translation
 * adds a `max_tokens` larger than the reservation's output cap (500 here) and a body larger than
 * the client's. Bounded: 20 calls per case, each with a 30 s timeout.
 */
let gateway: QuickStartGateway | undefined;
let mock: MockUpstream;
let server: TestGatehouse;

const OUTPUT_CAP = 500;
const CONCURRENT_CALLS = 20;
const LIMIT_USD = 0.1;
/** About 1,000 tokens of input, matching what the mock reports, so input is estimated fairly. */
const PROMPT = 'word '.repeat(800);

beforeAll(async () => {
  gateway = await startQuickStartGateway({ GATEHOUSE_RESERVATION_OUTPUT_TOKENS: String(OUTPUT_CAP) });
  ({ mock, server } = gateway);
});
afterAll(() => gateway?.close());
beforeEach(() => mock.reset());

async function keyWithBudget() {
  const setup = (gateway as QuickStartGateway).setup;
  const key = await server.admin('POST', '/virtual-keys', { projectId: setup.projectId, name: 'streams' });
  const budget = await server.admin('POST', '/budgets', {
    scope: 'key',
    scopeId: key.id,
    limitUsd: LIMIT_USD,
    window: 'total',
    action: 'block',
  });
  return { key: key.key as string, budgetId: budget.id as string };
}

/** Fires the calls at once, reads every body to its end, and returns the statuses. */
async function race(key: string, body: Record<string, unknown>): Promise<number[]> {
  return Promise.all(
    Array.from({ length: CONCURRENT_CALLS }, async () => {
      const response = await fetch(`${server.url}/api/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      await response.arrayBuffer();
      return response.status;
    }),
  );
}

async function expectOverrunWithinOneCall(budgetId: string, statuses: number[]): Promise<void> {
  const served = statuses.filter((status) => status === 200).length;
  expect(served).toBeGreaterThan(0);
  expect(statuses.filter((status) => status !== 200).every((status) => status === 402)).toBe(true);
  await server.flushUsage();
  const status = await server.admin('GET', `/budgets/${budgetId}`);
  const oneCall = status.spentUsd / served;
  expect(status.spentUsd).toBeLessThanOrEqual(LIMIT_USD + oneCall + 1e-9);
  expect(status.reservedUsd).toBe(0);
}

describe('budgets hold for slow concurrent streams', () => {
  it('a translated stream without max_tokens reserves the max_tokens the gateway sends', async () => {
    // The Anthropic credential serves claude: translation must send max_tokens 4096, far above
    // the 500-token cap, and the provider may use what it is given (1,000 here).
    mock.setDefault({ usage: { inputTokens: 1_000, outputTokens: 1_000 }, eventDelayMs: 40 });
    const { key, budgetId } = await keyWithBudget();
    const statuses = await race(key, {
      model: 'claude-sonnet-4-6',
      stream: true,
      messages: [{ role: 'user', content: PROMPT }],
    });
    expect(mock.requests.every((request) => request.body?.max_tokens === 4096)).toBe(true);
    await expectOverrunWithinOneCall(budgetId, statuses);
  });

  it('a passed-through stream, with the usage chunk the gateway asks for, stays within one call', async () => {
    mock.setDefault({ usage: { inputTokens: 1_000, outputTokens: 400 }, eventDelayMs: 40 });
    const { key, budgetId } = await keyWithBudget();
    const statuses = await race(key, {
      model: 'gpt-4o',
      stream: true,
      max_tokens: 400,
      messages: [{ role: 'user', content: PROMPT }],
    });
    expect(mock.requests.every((request) => request.body?.stream_options !== undefined)).toBe(true);
    await expectOverrunWithinOneCall(budgetId, statuses);
  });
});
