import Anthropic from '@anthropic-ai/sdk';
import { generateVirtualKey } from '@gatehouse/core';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { virtualKeys } from '../src/store/schema.js';
import type { MockUpstream } from './mock-upstream/mock-upstream.js';
import {
  type QuickStart,
  type QuickStartGateway,
  startQuickStartGateway,
  type TestGatehouse,
} from './support/harness.js';

let mock: MockUpstream;
let server: TestGatehouse;
let setup: QuickStart;

let gateway: QuickStartGateway | undefined;

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  ({ mock, server, setup } = gateway);
});
afterAll(() => gateway?.close());

function chat(key: string) {
  return fetch(`${server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

async function newKey(options: Record<string, unknown> = {}) {
  return server.admin<{ id: string; key: string }>('POST', '/virtual-keys', {
    projectId: setup.projectId,
    name: 'lifecycle',
    ...options,
  });
}

/** Counts the store reads the gateway makes, by wrapping the database handle's `select`. */
/**
 * Counts reads of the key table only: on PostgreSQL the change-log poller and other background
 * work select from the same database while the test runs, and they are not key lookups.
 */
function countStoreReads(): { readonly count: number; restore(): void } {
  type Builder = { from: (table: unknown, ...rest: unknown[]) => unknown };
  const db = server.gatehouse.storage.db as unknown as { select: (...args: unknown[]) => Builder };
  const original = db.select;
  let count = 0;
  db.select = function (this: unknown, ...args: unknown[]) {
    const builder = original.apply(this, args);
    const from = builder.from;
    builder.from = function (this: unknown, table: unknown, ...rest: unknown[]) {
      if (table === virtualKeys) count += 1;
      return from.call(this, table, ...rest);
    };
    return builder;
  };
  return {
    get count() {
      return count;
    },
    restore() {
      db.select = original;
    },
  };
}

describe('virtual key lifecycle', () => {
  it('refuses a revoked key on its very next request, in each SDK', async () => {
    const { id, key } = await newKey();
    expect((await chat(key)).status).toBe(200); // now cached as valid

    const revoked = await server.admin('DELETE', `/virtual-keys/${id}`);
    expect(revoked.revokedAt).not.toBeNull();

    const response = await chat(key);
    expect(response.status).toBe(401);
    expect((await response.json()).error.code).toBe('key_revoked');

    const anthropic = new Anthropic({ apiKey: key, baseURL: `${server.url}/api`, maxRetries: 0 });
    const error = await anthropic.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((error as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error', message: 'The API key has been revoked.' },
    });
  });

  it('refuses an expired key', async () => {
    const { key } = await newKey({ expiresInSeconds: 1 });
    expect((await chat(key)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const response = await chat(key);
    expect(response.status).toBe(401);
    expect((await response.json()).error.code).toBe('key_expired');
  });

  it('refuses a malformed or mistyped key without reading the store', async () => {
    const { key } = await newKey();
    const typo = `${key.slice(0, 10)}${key[10] === 'a' ? 'b' : 'a'}${key.slice(11)}`;
    const reads = countStoreReads();
    try {
      for (const bad of [typo, 'sk-not-a-gatehouse-key', key.slice(0, -1), `${key}x`]) {
        const response = await chat(bad);
        expect(response.status).toBe(401);
        expect((await response.json()).error.code).toBe('invalid_key');
      }
      expect(reads.count).toBe(0);

      // A well-formed key that was never issued costs one read, then is remembered as unknown.
      const unknown = generateVirtualKey();
      expect((await chat(unknown)).status).toBe(401);
      expect((await chat(unknown)).status).toBe(401);
      expect(reads.count).toBe(1);
    } finally {
      reads.restore();
    }
    expect(mock.requests.some((request) => JSON.stringify(request.headers).includes(typo))).toBe(false);
  });

  it('refuses an unknown key in the OpenAI SDK error shape, and a missing one too', async () => {
    const openai = new OpenAI({
      apiKey: generateVirtualKey(),
      baseURL: `${server.url}/api/v1`,
      maxRetries: 0,
    });
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_key');

    const missing = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }),
    });
    expect(missing.status).toBe(401);
    expect((await missing.json()).error).toMatchObject({
      code: 'missing_key',
      type: 'invalid_request_error',
    });
  });

  it('accepts the key in every header the wire contract names', async () => {
    const { key } = await newKey();
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const url = `${server.url}/api/v1/chat/completions`;
    const variants: [string, RequestInit][] = [
      ['x-api-key', { headers: { 'x-api-key': key } }],
      ['x-goog-api-key', { headers: { 'x-goog-api-key': key } }],
      ['api-key', { headers: { 'api-key': key } }],
    ];
    for (const [, init] of variants) {
      const response = await fetch(url, {
        method: 'POST',
        body,
        headers: { ...(init.headers as Record<string, string>), 'content-type': 'application/json' },
      });
      expect(response.status).toBe(200);
    }
    const query = await fetch(`${url}?key=${key}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(query.status).toBe(200);
  });
});
