import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projects, teams, telemetryRecords } from '../src/store/schema.js';
import { type QuickStartGateway, startQuickStartGateway, type TestGatehouse } from './support/harness.js';

/**
 * What Claude Code's own gateway sign-in calls besides the model API, with the requests it
 * sends: the managed settings it polls and the OTLP telemetry it posts, its key as the bearer.
 */
let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;
let key: string;
let keyId: string;

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  server = gateway.server;
  key = gateway.setup.key;
  keyId = gateway.setup.keyId;
});
afterAll(() => gateway?.close());

const bearer = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, ...extra });

describe('managed settings', () => {
  it('answers 404 in the Anthropic envelope while no policy exists, and 401 without a key', async () => {
    const none = await fetch(`${server.url}/managed/settings`, { headers: bearer() });
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    const anonymous = await fetch(`${server.url}/managed/settings`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it("serves the organisation's document with an ETag, 304 when unchanged, and a team's own document to its members", async () => {
    const document = {
      permissions: { deny: ['Bash(curl:*)'] },
      env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
    };
    const stored = await server.admin('PUT', '/claude-code-settings', { settings: document });
    expect(stored).toMatchObject({ teamId: null, settings: document });

    const first = await fetch(`${server.url}/managed/settings`, { headers: bearer() });
    expect(first.status).toBe(200);
    // The envelope Claude Code parses; the checksum is the one it computes over its cached copy
    // (SHA-256 of the key-sorted JSON), so its If-None-Match matches our ETag.
    const sorted = JSON.stringify({
      env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
      permissions: { deny: ['Bash(curl:*)'] },
    });
    const checksum = `sha256:${createHash('sha256').update(sorted).digest('hex')}`;
    expect(await first.json()).toEqual({ uuid: checksum, checksum, settings: document });
    const etag = first.headers.get('etag') as string;
    expect(etag).toBe(`"${checksum}"`);
    expect(etag).toBe(stored.etag);
    const again = await fetch(`${server.url}/api/managed/settings`, {
      headers: bearer({ 'if-none-match': etag }),
    });
    expect(again.status).toBe(304);

    const changed = await server.admin('PUT', '/claude-code-settings', {
      settings: { ...document, model: 'sonnet' },
    });
    expect(changed.etag).not.toBe(etag);
    const refreshed = await fetch(`${server.url}/managed/settings`, {
      headers: bearer({ 'if-none-match': etag }),
    });
    expect(refreshed.status).toBe(200);

    const db = server.gatehouse.storage.db;
    await db.insert(teams).values({ id: 'team_platform', organizationId: 'org_default', name: 'platform' });
    await db
      .update(projects)
      .set({ teamId: 'team_platform' })
      .where(eq(projects.id, (gateway as QuickStartGateway).setup.projectId));
    await server.admin('PUT', '/claude-code-settings', {
      teamId: 'team_platform',
      settings: { model: 'opus' },
    });
    // A new key resolves the project's team afresh (cached keys learn of it when their cache expires).
    const teamKey = await server.admin('POST', '/virtual-keys', {
      projectId: (gateway as QuickStartGateway).setup.projectId,
      name: 'team',
    });
    const teamDocument = await fetch(`${server.url}/managed/settings`, {
      headers: { authorization: `Bearer ${teamKey.key}` },
    });
    expect((await teamDocument.json()).settings).toEqual({ model: 'opus' });
  });
});

describe('OTLP telemetry', () => {
  it('stores JSON and protobuf batches attributed to the caller, and answers as OTLP/HTTP does', async () => {
    const logs = { resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [] }] };
    const json = await fetch(`${server.url}/v1/logs`, {
      method: 'POST',
      headers: bearer({ 'content-type': 'application/json' }),
      body: JSON.stringify(logs),
    });
    expect(json.status).toBe(200);
    expect(await json.json()).toEqual({});

    const protobuf = Buffer.from([0x0a, 0x02, 0x08, 0x01]);
    const binary = await fetch(`${server.url}/api/v1/metrics`, {
      method: 'POST',
      headers: bearer({ 'content-type': 'application/x-protobuf' }),
      body: protobuf,
    });
    expect(binary.status).toBe(200);
    expect(binary.headers.get('content-type')).toBe('application/x-protobuf');

    const rows = await server.gatehouse.storage.db
      .select()
      .from(telemetryRecords)
      .where(eq(telemetryRecords.keyId, keyId));
    expect(rows.map((row) => [row.signal, row.contentType, row.principalId])).toEqual([
      ['logs', 'application/json', keyId],
      ['metrics', 'application/x-protobuf', keyId],
    ]);
    expect(JSON.parse(rows[0]?.body ?? '')).toEqual(logs);
    expect(Buffer.from(rows[1]?.body ?? '', 'base64')).toEqual(protobuf);
  });

  it('refuses malformed JSON and callers without a key, in the Anthropic envelope', async () => {
    const malformed = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: bearer({ 'content-type': 'application/json' }),
      body: '{"resourceSpans": [',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const anonymous = await fetch(`${server.url}/v1/traces`, { method: 'POST', body: '{}' });
    expect(anonymous.status).toBe(401);
  });
});
