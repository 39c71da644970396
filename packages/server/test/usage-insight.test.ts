import Anthropic from '@anthropic-ai/sdk';
import { windowBounds } from '@gatehouse/core';
import { eq, inArray } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents, users } from '../src/store/schema.js';
import {
  ADMIN_TOKEN,
  createPersonalCaller,
  eventually,
  type PersonalCaller,
  type QuickStartGateway,
  startQuickStartGateway,
} from './support/harness.js';

/**
 * What the governance home, the usage explorer and the personal page read: the coding tool of
 * every call (from the User-Agent the real clients send), usage over time in the organisation's
 * time zone, a person's own recent calls, and the governance summary. Calls are real gateway
 * calls; where a test needs them at known times, their ledger rows are moved there afterwards.
 */

const TIME_ZONE = 'America/New_York';
/** What the tools send (see core/client-tool.ts for where each comes from). */
const CLAUDE_CODE = 'claude-cli/2.1.197 (external, cli)';
const CODEX = 'codex_exec/0.171.0 (Debian 12.0.0; x86_64) xterm-256color';
const GEMINI_CLI = 'GeminiCLI/0.61.0/gpt-4o-mini (linux; x64)';

let gateway: QuickStartGateway;
let alice: PersonalCaller;
let bob: PersonalCaller;

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever the endpoint returns.
type Json = any;

async function get(path: string, bearer = ADMIN_TOKEN): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${gateway.server.url}${path}`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
  return { status: response.status, body: await response.json() };
}

function anthropicAs(key: string, userAgent: string) {
  return new Anthropic({
    apiKey: key,
    baseURL: `${gateway.server.url}/api`,
    defaultHeaders: { 'user-agent': userAgent },
  });
}

function openAiAs(key: string, userAgent?: string) {
  return new OpenAI({
    apiKey: key,
    // The SDK's own retries would wait out its backoff on every 500 the health test provokes.
    maxRetries: 0,
    baseURL: `${gateway.server.url}/api/v1`,
    ...(userAgent ? { defaultHeaders: { 'user-agent': userAgent } } : {}),
  });
}

async function claudeCall(key: string) {
  await anthropicAs(key, CLAUDE_CODE).messages.create({
    model: 'claude-sonnet-4-6',
    max_tokens: 16,
    messages: [{ role: 'user', content: 'hi' }],
  });
}

async function codexCall(key: string) {
  await openAiAs(key, CODEX).responses.create({ model: 'gpt-4o-mini', input: 'hi' });
}

async function geminiCall(key: string) {
  const response = await fetch(`${gateway.server.url}/api/v1beta/models/gpt-4o-mini:generateContent`, {
    method: 'POST',
    headers: { 'x-goog-api-key': key, 'content-type': 'application/json', 'user-agent': GEMINI_CLI },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
  });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
}

async function plainSdkCall(key: string) {
  await openAiAs(key).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi' }],
  });
}

/** The ledger rows of a principal, once it holds `count` of them. */
async function eventsOf(principalId: string, count: number) {
  const db = gateway.server.gatehouse.storage.db;
  return eventually(
    async () => {
      await gateway.server.flushUsage();
      return db.select().from(usageEvents).where(eq(usageEvents.principalId, principalId));
    },
    (rows) => rows.length >= count,
  );
}

/** Moves a call's ledger row to a known time: the call was real, only its time is chosen. */
async function moveTo(requestId: string, at: Date | number) {
  await gateway.server.gatehouse.storage.db
    .update(usageEvents)
    .set({ createdAt: new Date(at) })
    .where(eq(usageEvents.requestId, requestId));
}

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  await gateway.server.admin('PATCH', '/organization', { timeZone: TIME_ZONE });
  // Priced, so every call costs the same known, non-zero amount.
  for (const id of [gateway.setup.openAiProviderId, gateway.setup.anthropicProviderId]) {
    await gateway.server.admin('PATCH', `/providers/${id}`, {
      defaultPrice: { inputPerMTok: 1_000, outputPerMTok: 1_000 },
    });
  }
  alice = await createPersonalCaller(gateway.server, 'alice');
  bob = await createPersonalCaller(gateway.server, 'bob');
});

afterAll(async () => {
  await gateway?.close();
});

describe('the coding tool of each call', () => {
  it('is read from the User-Agent the tools send, and usage groups by it', async () => {
    const key = gateway.setup.key;
    await claudeCall(key);
    await claudeCall(key);
    await codexCall(key);
    await geminiCall(key);
    await plainSdkCall(key);
    const rows = await eventsOf(gateway.setup.keyId, 5);
    expect(rows.map((row) => row.clientTool).sort()).toEqual([
      'claude-code',
      'claude-code',
      'codex',
      'gemini-cli',
      null,
    ]);

    const byTool = (await get(`/api/admin/usage?groupBy=tool&keyId=${gateway.setup.keyId}`)).body;
    expect(byTool.rows.map((row: Json) => [row.group, row.requests])).toEqual([
      ['claude-code', 2],
      ['codex', 1],
      ['gemini-cli', 1],
      [null, 1],
    ]);
    const codexOnly = (await get(`/api/admin/usage?tool=codex&keyId=${gateway.setup.keyId}`)).body;
    expect(codexOnly.rows.map((row: Json) => [row.group, row.requests])).toEqual([['gpt-4o-mini', 1]]);
  });
});

describe('usage over time', () => {
  // 2026-03-08 is the day New York moves its clocks forward: that day is 23 hours long.
  const late6th = '2026-03-07T04:30:00.000Z'; // 23:30 on the 6th in New York
  const early7th = '2026-03-07T05:30:00.000Z'; // 00:30 on the 7th
  const morning9th = '2026-03-09T12:00:00.000Z'; // 08:00 on the 9th, daylight time

  beforeAll(async () => {
    await claudeCall(bob.key);
    await codexCall(bob.key);
    await claudeCall(bob.key);
    const rows = await eventsOf(bob.userId, 3);
    const times = [late6th, early7th, morning9th];
    for (const [index, row] of rows.entries()) await moveTo(row.requestId, new Date(times[index] as string));
  });

  it('cuts days at midnight in the organisation time zone, and lists the empty ones', async () => {
    const from = '2026-03-06T05:00:00.000Z'; // midnight on the 6th, standard time
    const to = '2026-03-10T04:00:00.000Z'; // midnight on the 10th, daylight time
    const report = (
      await get(
        `/api/admin/usage?interval=day&groupBy=principal&principalId=${bob.userId}&from=${from}&to=${to}`,
      )
    ).body;
    expect(report.interval).toBe('day');
    expect(report.buckets).toEqual([
      '2026-03-06T05:00:00.000Z',
      '2026-03-07T05:00:00.000Z',
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
    ]);
    expect(report.rows.map((row: Json) => [row.bucket, row.group, row.requests])).toEqual([
      ['2026-03-06T05:00:00.000Z', bob.userId, 1],
      ['2026-03-07T05:00:00.000Z', bob.userId, 1],
      ['2026-03-09T04:00:00.000Z', bob.userId, 1],
    ]);
    expect(report.rows[0].costUsd).toBeGreaterThan(0);
  });

  it('cuts hours and groups each bucket by tool', async () => {
    const report = (
      await get(
        `/api/admin/usage?interval=hour&groupBy=tool&principalId=${bob.userId}&from=2026-03-07T04:00:00Z&to=2026-03-07T07:00:00Z`,
      )
    ).body;
    expect(report.buckets).toEqual([
      '2026-03-07T04:00:00.000Z',
      '2026-03-07T05:00:00.000Z',
      '2026-03-07T06:00:00.000Z',
    ]);
    expect(report.rows.map((row: Json) => [row.bucket, row.group])).toEqual([
      ['2026-03-07T04:00:00.000Z', 'claude-code'],
      ['2026-03-07T05:00:00.000Z', 'codex'],
    ]);
  });

  it("gives a person their own series at /api/me/usage, and nobody else's", async () => {
    const range = 'from=2026-03-06T05:00:00Z&to=2026-03-10T04:00:00Z';
    const mine = (await get(`/api/me/usage?interval=day&groupBy=tool&${range}`, bob.key)).body;
    expect(mine.buckets).toHaveLength(4);
    expect(mine.rows.map((row: Json) => row.group)).toEqual(['claude-code', 'codex', 'claude-code']);
    const theirs = (await get(`/api/me/usage?interval=day&groupBy=tool&${range}`, alice.key)).body;
    expect(theirs.rows).toEqual([]);
    expect(theirs.buckets).toHaveLength(4);
  });

  it('refuses a range it cannot chart, in the admin error shape', async () => {
    const reversed = await get(
      '/api/admin/usage?interval=day&from=2026-03-09T00:00:00Z&to=2026-03-01T00:00:00Z',
    );
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.code).toBe('invalid_range');
    const huge = await get(
      '/api/admin/usage?interval=hour&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
    );
    expect(huge.status).toBe(400);
    expect(huge.body.error).toMatchObject({
      code: 'too_many_buckets',
      message: expect.stringContaining('1000'),
    });
    const unknown = await get('/api/me/usage?interval=week', bob.key);
    expect(unknown.status).toBe(400);
  });
});

describe("a person's recent requests", () => {
  it('lists their own calls newest first, paged, and never anyone else’s', async () => {
    await claudeCall(alice.key);
    await codexCall(alice.key);
    await geminiCall(alice.key);
    const aliceRows = await eventsOf(alice.userId, 3);
    // Distinct, known times so the order is the ledger's, not the batch's.
    for (const [index, row] of aliceRows.entries())
      await moveTo(row.requestId, Date.now() - (index + 1) * 60_000);

    const first = await get('/api/me/requests?limit=2', alice.key);
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await get(`/api/me/requests?limit=2&cursor=${first.body.nextCursor}`, alice.key);
    const all = [...first.body.data, ...second.body.data];
    expect(all.map((row: Json) => row.requestId)).toEqual(aliceRows.map((row) => row.requestId));
    expect(second.body.nextCursor).toBeNull();
    expect(all[0]).toMatchObject({
      model: expect.any(String),
      tool: expect.stringMatching(/^(claude-code|codex|gemini-cli)$/),
      status: 200,
      inputTokens: expect.any(Number),
      outputTokens: expect.any(Number),
      costUsd: expect.any(Number),
      latencyMs: expect.any(Number),
    });
    expect(JSON.stringify(all)).not.toContain(alice.key);

    const bobs = (await get('/api/me/requests?limit=200', bob.key)).body.data;
    const aliceIds = new Set(aliceRows.map((row) => row.requestId));
    expect(bobs.length).toBeGreaterThan(0);
    expect(bobs.some((row: Json) => aliceIds.has(row.requestId))).toBe(false);

    const forged = await get(
      `/api/me/requests?cursor=${Buffer.from('nope').toString('base64url')}`,
      alice.key,
    );
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('invalid_request');
    expect((await get('/api/me/requests?principalId=usr_bob', alice.key)).status).toBe(400);
  });
});

describe('the governance summary', () => {
  it('gives spend against the previous period, active people, top spenders and provider health', async () => {
    const db = gateway.server.gatehouse.storage.db;
    const carol = await createPersonalCaller(gateway.server, 'carol');
    await claudeCall(carol.key);
    await claudeCall(carol.key);
    await codexCall(carol.key);
    await claudeCall(carol.key);
    // The three Claude Code calls cost the same; the Codex one is moved far back, out of every period.
    const carolRows = (await eventsOf(carol.userId, 4)).sort((a, b) =>
      String(a.clientTool).localeCompare(String(b.clientTool)),
    );
    expect(carolRows.map((row) => row.clientTool)).toEqual([
      'claude-code',
      'claude-code',
      'claude-code',
      'codex',
    ]);
    const cost = carolRows[0]?.costUsd as number;
    expect(cost).toBeGreaterThan(0);
    const now = Date.now();
    const today = windowBounds('day', now, TIME_ZONE);
    const yesterday = windowBounds('day', today.start - 1, TIME_ZONE);
    const month = windowBounds('month', now, TIME_ZONE);
    const lastMonth = windowBounds('month', month.start - 1, TIME_ZONE);
    const [todayCall, yesterdayCall, lastMonthCall, longAgoCall] = carolRows.map((row) => row.requestId);
    await moveTo(todayCall as string, today.start);
    await moveTo(yesterdayCall as string, yesterday.start);
    await moveTo(lastMonthCall as string, lastMonth.start);
    await moveTo(longAgoCall as string, now - 200 * 86_400_000);
    // Everything else of this file's calls is moved out of the way, far back.
    await db
      .update(usageEvents)
      .set({ createdAt: new Date(now - 300 * 86_400_000) })
      .where(inArray(usageEvents.principalId, [alice.userId, bob.userId, gateway.setup.keyId]));
    // Bob calls today, but has been here for long: active, not new.
    await db
      .update(users)
      .set({ createdAt: new Date(now - 90 * 86_400_000) })
      .where(eq(users.id, bob.userId));
    await plainSdkCall(bob.key);
    const bobRows = await eventsOf(bob.userId, 4);
    const bobToday = bobRows.find((row) => row.createdAt.getTime() >= today.start)?.costUsd as number;

    const summary = (await get('/api/admin/governance/summary')).body;
    const yesterdayInMonth = yesterday.start >= month.start;
    expect(summary.timeZone).toBe(TIME_ZONE);
    expect(summary.spend.today).toEqual({
      costUsd: expect.closeTo(cost + bobToday, 6), // carol's today, bob's just now
      previousUsd: expect.closeTo(cost, 6),
      since: new Date(today.start).toISOString(),
    });
    expect(summary.spend.month.costUsd).toBeCloseTo((yesterdayInMonth ? 2 : 1) * cost + bobToday, 6);
    expect(summary.spend.month.previousUsd).toBeCloseTo((yesterdayInMonth ? 1 : 2) * cost, 6);
    expect(summary.people).toEqual({ active: 2, new: 1, days: 30 });

    const carolRow = summary.topSpenders.find((row: Json) => row.principalId === carol.userId);
    expect(carolRow).toMatchObject({
      label: 'carol@example.com',
      kind: 'person',
      topModel: 'claude-sonnet-4-6',
      topTool: 'claude-code',
    });
    expect(summary.topSpenders[0].principalId).toBe(carol.userId);
    expect(summary.topSpenders.find((row: Json) => row.principalId === bob.userId)).toMatchObject({
      topModel: 'gpt-4o-mini',
      topTool: null,
    });
    expect(JSON.stringify(summary)).not.toMatch(/gth_|sk-/);

    // The OpenAI credential fails until its breaker opens; the summary sees both.
    gateway.mock.setDefault({ status: 500 });
    for (let call = 0; call < 6; call++) await plainSdkCall(bob.key).catch(() => undefined);
    gateway.mock.setDefault({});
    await gateway.server.flushUsage();
    const health = (await get('/api/admin/governance/summary')).body.providers;
    const openAi = health.find((row: Json) => row.id === gateway.setup.openAiProviderId);
    expect(openAi).toMatchObject({
      name: 'mock-openai',
      circuit: 'open',
      retryInSeconds: expect.any(Number),
    });
    expect(openAi.failures).toBeGreaterThanOrEqual(5);
    expect(openAi.errorRate).toBeGreaterThan(0);
    expect(openAi.errorRate).toBeLessThan(1);
    expect(openAi.p95LatencyMs).toBeGreaterThanOrEqual(openAi.p50LatencyMs);
    const anthropic = health.find((row: Json) => row.id === gateway.setup.anthropicProviderId);
    expect(anthropic).toMatchObject({ circuit: 'closed', failures: 0, errorRate: 0, retryInSeconds: null });
    expect(anthropic.attempts).toBeGreaterThan(0);
  });

  it('is refused to who may not govern', async () => {
    expect((await get('/api/admin/governance/summary', alice.key)).status).toBe(403);
  });
});
