import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminTokens } from '../src/store/schema.js';
import { startTestGatehouse, type TestGatehouse } from './support/harness.js';

/**
 * Admin tokens for automation through the real admin API: shown once, checksummed, stored hashed,
 * limited to their permissions, listed with their last use, refused once revoked or expired.
 */
let server: TestGatehouse;

beforeAll(async () => {
  server = await startTestGatehouse();
});
afterAll(async () => {
  await server?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever fields the endpoint returns.
type Json = any;

async function callWith(
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${server.url}/api/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

describe('an admin token limited to budgets:manage', () => {
  it('changes budgets and nothing else, shows its last use, and stops at revocation', async () => {
    const project = await server.admin('POST', '/projects', { name: 'automation' });
    const budget = await server.admin('POST', '/budgets', {
      scope: 'project',
      scopeId: project.id,
      limitUsd: 10,
      window: 'month',
      action: 'block',
    });
    const created = await server.admin('POST', '/tokens', {
      name: 'finance bot',
      permissions: ['budgets:manage'],
    });
    expect(created.token).toMatch(/^gha_[0-9A-Za-z]{38}$/);
    expect(created.tokenHint).toBe(`gha_…${created.token.slice(-4)}`);
    expect(created.permissions).toEqual(['budgets:manage']);

    const changed = await callWith(created.token, 'PATCH', `/budgets/${budget.id}`, { limitUsd: 25 });
    expect(changed.status).toBe(200);
    expect(changed.json.limitUsd).toBe(25);

    const provider = await callWith(created.token, 'POST', '/providers', { name: 'sneaky', type: 'openai' });
    expect(provider.status).toBe(403);
    expect(provider.json.error.message).toContain('providers:manage');
    expect((await callWith(created.token, 'GET', '/providers')).status).toBe(403);
    expect((await callWith(created.token, 'GET', '/virtual-keys')).status).toBe(403);
    // A token cannot mint a broader one, or even list tokens.
    expect((await callWith(created.token, 'POST', '/tokens', { name: 'wider', role: 'owner' })).status).toBe(
      403,
    );

    const listed = await server.admin('GET', '/tokens');
    const row = listed.data.find((entry: { id: string }) => entry.id === created.id);
    expect(row).toMatchObject({ name: 'finance bot', permissions: ['budgets:manage'], revokedAt: null });
    expect(Date.parse(row.lastUsedAt)).toBeGreaterThan(0);
    expect(JSON.stringify(listed)).not.toContain(created.token);

    await server.admin('DELETE', `/tokens/${created.id}`);
    const afterRevoke = await callWith(created.token, 'PATCH', `/budgets/${budget.id}`, { limitUsd: 30 });
    expect(afterRevoke.status).toBe(401);
  });

  it('refuses a token past its expiry, a mistyped token and a caller granting what it lacks', async () => {
    const created = await server.admin('POST', '/tokens', {
      name: 'short',
      role: 'viewer',
      expiresInSeconds: 60,
    });
    expect((await callWith(created.token, 'GET', '/providers')).status).toBe(200);
    expect((await callWith(created.token, 'POST', '/projects', { name: 'x' })).status).toBe(403);
    // One character changed: the checksum fails before any lookup.
    const last = created.token.at(-1) === 'a' ? 'b' : 'a';
    expect((await callWith(`${created.token.slice(0, -1)}${last}`, 'GET', '/providers')).status).toBe(401);

    // A token that may hand out tokens still hands out only what it holds itself.
    const issuer = await server.admin('POST', '/tokens', {
      name: 'issuer',
      permissions: ['adminTokens:manage', 'usage:view'],
    });
    const narrower = await callWith(issuer.token, 'POST', '/tokens', {
      name: 'x',
      permissions: ['usage:view'],
    });
    expect(narrower.status).toBe(201);
    const wider = await callWith(issuer.token, 'POST', '/tokens', {
      name: 'y',
      permissions: ['providers:manage'],
    });
    expect(wider.status).toBe(403);
    expect(wider.json.error.message).toContain('providers:manage');

    // Expiry is checked against the server's clock on each request.
    const expired = await server.admin('POST', '/tokens', {
      name: 'gone',
      role: 'viewer',
      expiresInSeconds: 60,
    });
    await server.gatehouse.storage.db
      .update(adminTokens)
      .set({ expiresAt: new Date(Date.now() - 1_000) })
      .where(eq(adminTokens.id, expired.id));
    expect((await callWith(expired.token, 'GET', '/providers')).status).toBe(401);
  });
});
