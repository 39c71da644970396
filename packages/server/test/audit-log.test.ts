import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { asc, eq, sql } from 'drizzle-orm';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED } from '../src/control/audit/redact.js';
import { openDatabase } from '../src/store/database.js';
import { auditCheckpoints, auditEvents, organizations } from '../src/store/schema.js';
import { type Browser, decideOnPage, pollToken, startDeviceAuthorization } from './support/cli-sign-in.js';
import {
  ADMIN_TOKEN,
  canStartCluster,
  createScratchDatabase,
  freePort,
  startTestCluster,
  startTestGatehouse,
  startTestGatehouseOn,
  type TestGatehouse,
} from './support/harness.js';
import { type OidcProvider, startOidcProvider } from './support/oidc-provider.js';

/**
 * The audit log end to end: one change of every kind through the real admin API, a real OIDC
 * sign-in and a refused one, a device approval, minted and revoked CLI keys, SCIM provisioning
 * and deactivation; then the rows themselves, the filters and paging, a direct edit in the
 * database that the real `gatehouse admin audit verify` names, and no secret in any row.
 */

const CLI = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const run = promisify(execFile);

const USER_AGENT = 'audit-log-test/1.0';
const CLIENT_ID = 'gatehouse-audit';
const CLIENT_SECRET = 'oidc-client-secret-for-the-audit-test-0123';
const PROVIDER_SECRET = 'sk-audit-provider-secret-first-0123456789';
const PROVIDER_SECRET_ROTATED = 'sk-audit-provider-secret-rotated-987654';

let server: TestGatehouse;
let provider: OidcProvider;
/** Every secret the test makes; none may appear in any audit row. */
const secrets: string[] = [PROVIDER_SECRET, PROVIDER_SECRET_ROTATED, CLIENT_SECRET, ADMIN_TOKEN];

beforeAll(async () => {
  const port = await freePort();
  provider = await startOidcProvider({
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`http://127.0.0.1:${port}/api/auth/sso/oidc/callback`],
      },
    ],
    accounts: {
      ada: { email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace' },
      unverified: { email: 'unverified@example.com', email_verified: false, name: 'Not Verified' },
    },
  });
  server = await startTestGatehouse({
    PORT: String(port),
    GATEHOUSE_OIDC_ISSUER: provider.issuer,
    GATEHOUSE_OIDC_CLIENT_ID: CLIENT_ID,
    GATEHOUSE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
  });
}, 30_000);

afterAll(async () => {
  await server?.close();
  await provider?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever the endpoint under test returns.
type Json = any;

interface Answer {
  status: number;
  body: Json;
  requestId: string;
}

async function call(method: string, path: string, body?: unknown, bearer = ADMIN_TOKEN): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      'user-agent': USER_AGENT,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? undefined : JSON.parse(text),
    requestId: response.headers.get('x-gatehouse-request-id') as string,
  };
}

/** An admin change that must succeed. */
async function change(method: string, path: string, body?: unknown, bearer?: string): Promise<Answer> {
  const answer = await call(method, `/api/admin${path}`, body, bearer);
  expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
  return answer;
}

/** Every audit event of the default organisation, oldest first, straight from the table. */
async function allRows() {
  return server.gatehouse.storage.db
    .select()
    .from(auditEvents)
    .where(eq(auditEvents.organizationId, 'org_default'))
    .orderBy(asc(auditEvents.seq));
}

async function rowFor(requestId: string) {
  const rows = (await allRows()).filter((row) => row.requestId === requestId);
  expect(rows, `one audit event for request ${requestId}`).toHaveLength(1);
  return rows[0] as Awaited<ReturnType<typeof allRows>>[number];
}

/** A browser sign-in at the real OIDC provider: the callback's answer, not followed. */
async function signInAs(accountId: string): Promise<Response> {
  const login = await fetch(`${server.url}/api/auth/sso/login`, {
    redirect: 'manual',
    headers: { 'user-agent': USER_AGENT },
  });
  expect(login.status).toBe(303);
  const callback = await provider.signIn(login.headers.get('location') as string, accountId);
  return fetch(callback, { redirect: 'manual', headers: { 'user-agent': USER_AGENT } });
}

function browserWith(cookie: string): Browser {
  const headers = { cookie, 'user-agent': USER_AGENT };
  return {
    cookie,
    user: undefined as never,
    get: (path) => fetch(`${server.url}${path}`, { headers, redirect: 'manual' }),
    postForm: (path, fields) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
        redirect: 'manual',
      }),
  };
}

function cli(...args: string[]) {
  return cliAt(server.url, ...args);
}

function cliAt(url: string, ...args: string[]) {
  return run(process.execPath, [CLI, 'admin', '--server', url, '--token', ADMIN_TOKEN, 'audit', ...args], {
    env: { ...process.env, NO_COLOR: '1', GATEHOUSE_KEYCHAIN: 'off' },
    timeout: 30_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: error.code ?? -1,
      output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }),
  );
}

describe('the audit log', () => {
  it('records one event for every kind of change, sign-in, approval, key and provisioning', async () => {
    const bootstrap = { actorKind: 'bootstrap', actorId: null, actorLabel: 'GATEHOUSE_ADMIN_TOKEN' };
    const fromTest = { sourceIp: '127.0.0.1', userAgent: USER_AGENT };
    const expectRow = async (answer: Answer, expected: Record<string, unknown>) => {
      const row = await rowFor(answer.requestId);
      expect(row).toMatchObject({ ...bootstrap, ...fromTest, requestId: answer.requestId, ...expected });
      expect(row.occurredAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
      return row;
    };

    // Providers: create, rotate (the secret never shows), delete.
    const created = await change('POST', '/providers', {
      name: 'audit-openai',
      type: 'openai',
      baseUrl: 'https://api.example.com/v1',
      apiKey: PROVIDER_SECRET,
    });
    const providerId = created.body.id;
    await expectRow(created, {
      action: 'provider.create',
      targetType: 'provider',
      targetId: providerId,
      before: null,
      after: expect.objectContaining({ id: providerId, name: 'audit-openai', hasApiKey: true }),
    });
    const renamed = await change('PATCH', `/providers/${providerId}`, {
      name: 'audit-openai-renamed',
      apiKey: PROVIDER_SECRET_ROTATED,
    });
    await expectRow(renamed, {
      action: 'provider.update',
      targetId: providerId,
      before: expect.objectContaining({ name: 'audit-openai' }),
      after: expect.objectContaining({ name: 'audit-openai-renamed' }),
    });
    const spare = await change('POST', '/providers', { name: 'audit-spare', type: 'anthropic' });
    const deleted = await change('DELETE', `/providers/${spare.body.id}`);
    await expectRow(deleted, {
      action: 'provider.delete',
      targetId: spare.body.id,
      before: expect.objectContaining({ name: 'audit-spare' }),
      after: null,
    });

    // Policy, project, virtual key (minted, then revoked).
    const policy = await change('POST', '/routing-policies', {
      name: 'audit-policy',
      providers: [providerId],
    });
    const policyChanged = await change('PATCH', `/routing-policies/${policy.body.id}`, {
      allowedModels: ['gpt-*'],
    });
    await expectRow(policyChanged, {
      action: 'routing_policy.update',
      targetType: 'routing_policy',
      targetId: policy.body.id,
      before: expect.objectContaining({ name: 'audit-policy' }),
      after: expect.objectContaining({ allowedModels: ['gpt-*'] }),
    });
    const project = await change('POST', '/projects', {
      name: 'audit-project',
      routingPolicyId: policy.body.id,
    });
    await expectRow(project, { action: 'project.create', targetId: project.body.id });
    const key = await change('POST', '/virtual-keys', { projectId: project.body.id, name: 'audit-key' });
    secrets.push(key.body.key);
    const keyRow = await expectRow(key, {
      action: 'virtual_key.create',
      targetType: 'virtual_key',
      targetId: key.body.id,
    });
    expect((keyRow.after as Json).key).toBe(REDACTED);
    const revoked = await change('DELETE', `/virtual-keys/${key.body.id}`);
    await expectRow(revoked, {
      action: 'virtual_key.revoke',
      targetId: key.body.id,
      before: expect.objectContaining({ name: 'audit-key', key: REDACTED }),
    });

    // Budget (its limit before and after) and rate limit.
    const budget = await change('POST', '/budgets', {
      scope: 'project',
      scopeId: project.body.id,
      limitUsd: 10,
      window: 'month',
      action: 'block',
    });
    const raised = await change('PATCH', `/budgets/${budget.body.id}`, { limitUsd: 20 });
    await expectRow(raised, {
      action: 'budget.update',
      targetType: 'budget',
      targetId: budget.body.id,
      before: expect.objectContaining({ limitUsd: 10 }),
      after: expect.objectContaining({ limitUsd: 20 }),
    });
    const limit = await change('POST', '/rate-limits', {
      scope: 'project',
      scopeId: project.body.id,
      requestsPerMinute: 60,
    });
    await expectRow(limit, {
      action: 'rate_limit.create',
      targetType: 'rate_limit',
      targetId: limit.body.id,
    });

    // SSO settings (the client secret is sealed, never in the row), organisation settings.
    const sso = await change('PUT', '/sso/oidc', {
      issuer: provider.issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    });
    await expectRow(sso, {
      action: 'sso_connection.update',
      targetType: 'sso_connection',
      targetId: 'oidc',
      after: expect.objectContaining({ oidc: expect.objectContaining({ hasClientSecret: true }) }),
    });
    const organization = await change('PATCH', '/organization', { timeZone: 'Europe/Lisbon' });
    await expectRow(organization, {
      action: 'organization.update',
      targetType: 'organization',
      targetId: 'org_default',
      after: expect.objectContaining({ timeZone: 'Europe/Lisbon' }),
    });

    // Admin tokens: one is minted, acts as itself, and is revoked.
    const adminToken = await change('POST', '/tokens', { name: 'terraform', role: 'admin' });
    secrets.push(adminToken.body.token);
    const tokenRow = await expectRow(adminToken, {
      action: 'admin_token.create',
      targetId: adminToken.body.id,
    });
    expect((tokenRow.after as Json).token).toBe(REDACTED);
    const team = await change('POST', '/teams', { name: 'audit-team' }, adminToken.body.token);
    await expectRow(team, {
      action: 'team.create',
      targetType: 'team',
      targetId: team.body.id,
      actorKind: 'adminToken',
      actorId: adminToken.body.id,
      actorLabel: 'terraform',
    });
    // Roles and bindings (added on main) are audited by the same hook, with no code of their own.
    const role = await change('POST', '/roles', { name: 'audit lead', permissions: ['usage:view'] });
    await expectRow(role, { action: 'role.create', targetType: 'role', targetId: role.body.id });
    const binding = await change('POST', '/role-bindings', {
      role: 'viewer',
      subject: { kind: 'team', id: team.body.id },
    });
    await expectRow(binding, {
      action: 'role_binding.create',
      targetType: 'role_binding',
      targetId: binding.body.id,
    });
    const settings = await change('PUT', '/claude-code-settings', {
      settings: { model: 'claude-sonnet-4-6' },
    });
    await expectRow(settings, {
      action: 'claude_code_settings.update',
      targetType: 'claude_code_settings',
      after: expect.objectContaining({ settings: { model: 'claude-sonnet-4-6' } }),
    });
    const tokenRevoked = await change('DELETE', `/tokens/${adminToken.body.id}`);
    await expectRow(tokenRevoked, { action: 'admin_token.revoke', targetType: 'admin_token' });

    // SCIM token for the identity provider.
    const scimToken = await change('POST', '/scim-tokens', { name: 'okta' });
    secrets.push(scimToken.body.token);
    await expectRow(scimToken, { action: 'scim_token.create', targetId: scimToken.body.id });

    // A real sign-in at the identity provider, and a refused one.
    const signedIn = await signInAs('ada');
    expect(signedIn.status).toBe(303);
    const cookie = (signedIn.headers.get('set-cookie') as string).split(';')[0] as string;
    const session = await (await fetch(`${server.url}/api/auth/session`, { headers: { cookie } })).json();
    const adaId = session.user.id as string;
    await expectRow(
      { status: 303, body: undefined, requestId: signedIn.headers.get('x-gatehouse-request-id') as string },
      {
        action: 'sign_in.succeeded',
        actorKind: 'person',
        actorId: adaId,
        actorLabel: 'ada@example.com',
        targetType: 'user',
        targetId: adaId,
        after: { email: 'ada@example.com', protocol: 'oidc' },
      },
    );
    const refused = await signInAs('unverified');
    expect(refused.status).toBe(403);
    await expectRow(
      { status: 403, body: undefined, requestId: refused.headers.get('x-gatehouse-request-id') as string },
      {
        action: 'sign_in.failed',
        actorKind: 'person',
        actorId: null,
        actorLabel: 'unverified@example.com',
        after: expect.objectContaining({ reason: 'email_unverified', protocol: 'oidc' }),
      },
    );

    // The person approves a device; the CLI gets a key, mints another, and signs out.
    const device = await startDeviceAuthorization(server, 'audit-laptop');
    const approval = await decideOnPage(browserWith(cookie), device, 'approve');
    expect(approval.status).toBe(200);
    const person = { actorKind: 'person', actorId: adaId, actorLabel: 'ada@example.com' };
    await expectRow(
      { status: 200, body: undefined, requestId: approval.headers.get('x-gatehouse-request-id') as string },
      {
        ...person,
        action: 'device.approve',
        targetType: 'device_authorization',
        after: expect.objectContaining({ deviceName: 'audit-laptop', userId: adaId }),
      },
    );
    const tokens = await pollToken(server, device.device_code);
    expect(tokens.status).toBe(200);
    secrets.push(tokens.body.access_token, tokens.body.refresh_token);
    const signInMint = (await allRows()).filter((row) => row.action === 'key.mint');
    expect(signInMint).toHaveLength(1);
    expect(signInMint[0]).toMatchObject({
      ...person,
      targetType: 'virtual_key',
      after: expect.objectContaining({ reason: 'sign_in', userId: adaId }),
    });
    const minted = await call('POST', '/api/auth/cli/keys', undefined, tokens.body.access_token);
    expect(minted.status).toBe(200);
    secrets.push(minted.body.virtual_key);
    await expectRow(minted, {
      ...person,
      action: 'key.mint',
      targetType: 'virtual_key',
      after: expect.objectContaining({ reason: 'mint' }),
    });
    // The person revokes the minted key themselves (self-service), then signs the device out.
    const mintedId = (await rowFor(minted.requestId)).targetId as string;
    const ownRevoke = await call('DELETE', `/api/me/keys/${mintedId}`, undefined, tokens.body.access_token);
    expect(ownRevoke.status).toBe(200);
    await expectRow(ownRevoke, {
      ...person,
      action: 'key.revoke',
      targetType: 'virtual_key',
      targetId: mintedId,
      after: expect.objectContaining({ reason: 'self_service' }),
    });
    const signedOut = await call('POST', '/api/auth/cli/revoke', { token: tokens.body.refresh_token });
    expect(signedOut.status).toBe(200);
    await expectRow(signedOut, {
      ...person,
      action: 'key.revoke',
      targetType: 'cli_grant',
      after: expect.objectContaining({ reason: 'sign_out', revokedKeys: 1 }),
    });

    // The person moves team, then is off-boarded.
    const moved = await change('PATCH', `/users/${adaId}`, { teamId: team.body.id });
    await expectRow(moved, {
      action: 'user.update',
      targetType: 'user',
      targetId: adaId,
      after: expect.objectContaining({ teamId: team.body.id }),
    });
    const offboarded = await change('POST', `/users/${adaId}/revoke-access`);
    await expectRow(offboarded, {
      action: 'user.offboard',
      targetType: 'user',
      targetId: adaId,
      before: expect.objectContaining({ teamId: team.body.id }),
      after: expect.objectContaining({ userId: adaId }),
    });

    // SCIM provisions a person, puts them in a group, and deactivates them.
    const scim = (method: string, path: string, body: unknown) =>
      fetch(`${server.url}/scim/v2${path}`, {
        method,
        headers: {
          authorization: `Bearer ${scimToken.body.token}`,
          'content-type': 'application/scim+json',
          'user-agent': USER_AGENT,
        },
        body: JSON.stringify(body),
      });
    const scimActor = { actorKind: 'scim', actorId: scimToken.body.id, actorLabel: 'SCIM' };
    const provisioned = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'erin@example.com',
      name: { formatted: 'Erin Park' },
    });
    expect(provisioned.status).toBe(201);
    const erin = await provisioned.json();
    await expectRow(
      { status: 201, body: erin, requestId: provisioned.headers.get('x-gatehouse-request-id') as string },
      {
        ...scimActor,
        action: 'scim.user.create',
        targetType: 'user',
        targetId: erin.id,
        after: expect.objectContaining({ userName: 'erin@example.com', active: true }),
      },
    );
    const group = await scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Platform',
      members: [{ value: erin.id }],
    });
    expect(group.status).toBe(201);
    await expectRow(
      { status: 201, body: undefined, requestId: group.headers.get('x-gatehouse-request-id') as string },
      { ...scimActor, action: 'scim.group.create', targetType: 'team' },
    );
    const deactivated = await scim('PATCH', `/Users/${erin.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(deactivated.status).toBe(200);
    await expectRow(
      {
        status: 200,
        body: undefined,
        requestId: deactivated.headers.get('x-gatehouse-request-id') as string,
      },
      {
        ...scimActor,
        action: 'scim.user.deactivate',
        targetId: erin.id,
        before: expect.objectContaining({ active: true }),
        after: expect.objectContaining({ active: false }),
      },
    );

    // Nothing that failed or only read was recorded; every row chains to the one before.
    const missing = await call('DELETE', '/api/admin/budgets/bud_missing');
    expect(missing.status).toBe(404);
    await call('GET', '/api/admin/budgets');
    const rows = await allRows();
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_row, index) => index + 1));
    for (const [index, row] of rows.entries()) {
      expect(row.prevHash).toBe(index === 0 ? '0'.repeat(64) : rows[index - 1]?.hash);
    }
    expect(rows.some((row) => row.requestId === missing.requestId)).toBe(false);
  }, 60_000);

  it('filters by action, actor, target and time, and pages newest first with an opaque cursor', async () => {
    const total = (await allRows()).length;
    const byAction = await change('GET', '/audit?action=budget.update');
    expect(byAction.body.data).toHaveLength(1);
    expect(byAction.body.data[0]).toMatchObject({ action: 'budget.update', targetType: 'budget' });

    const [tokenRow] = (await change('GET', '/audit?action=admin_token.create')).body.data;
    const byActor = await change('GET', `/audit?actorId=${tokenRow.targetId}`);
    expect(byActor.body.data.map((row: Json) => row.action)).toEqual(['team.create']);

    const provider = (await change('GET', '/audit?targetType=provider')).body.data;
    const providerId = provider.find(
      (row: Json) => row.action === 'provider.create' && row.after.name === 'audit-openai',
    ).targetId;
    const history = await change('GET', `/audit?targetType=provider&targetId=${providerId}`);
    expect(history.body.data.map((row: Json) => row.action)).toEqual(['provider.update', 'provider.create']);

    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await change('GET', `/audit?since=${future}`)).body.data).toEqual([]);
    expect((await change('GET', `/audit?until=${future}`)).body.data.length).toBe(Math.min(total, 100));

    // Pages of 7, newest first, then oldest first: every event exactly once, in order.
    for (const order of ['desc', 'asc'] as const) {
      const seen: number[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 50; page++) {
        const query: string = `/audit?limit=7&order=${order}${cursor ? `&cursor=${cursor}` : ''}`;
        const answer = await change('GET', query);
        seen.push(...answer.body.data.map((row: Json) => row.seq));
        cursor = answer.body.nextCursor;
        if (!cursor) break;
      }
      const ascending = Array.from({ length: total }, (_unused, index) => index + 1);
      expect(seen).toEqual(order === 'asc' ? ascending : ascending.reverse());
    }
    const bad = await call('GET', '/api/admin/audit?cursor=bm9wZQ');
    expect(bad.status).toBe(400);
  });

  it('is proven intact by gatehouse admin audit verify, with a signed checkpoint of the head', async () => {
    const verified = await cli('verify');
    const total = (await allRows()).length;
    expect(verified.output).toContain(`audit chain intact: ${total} events, last checkpoint seq ${total}`);
    expect(verified.code).toBe(0);
    const { body } = await change('GET', '/audit/checkpoints');
    expect(body.data.at(-1)).toMatchObject({ seq: total, hash: (await allRows()).at(-1)?.hash });
    expect(body.jwksUrl).toBe(`${server.url}/.well-known/jwks.json`);
    const listed = await cli('list', '--action', 'budget.update');
    expect(listed.output).toContain('budget.update');
  }, 60_000);

  it('names the first event edited directly in the database', async () => {
    const rows = await allRows();
    const edited = rows.find((row) => row.action === 'budget.update');
    if (!edited) throw new Error('no budget.update event');
    await server.gatehouse.storage.db.execute(
      sql`UPDATE audit_events SET after = ${JSON.stringify({ limitUsd: 1_000_000 })}::jsonb WHERE id = ${edited.id}`,
    );
    const verified = await cli('verify');
    expect(verified.output).toContain(
      `audit chain broken at event #${edited.seq} (id ${edited.id}): hash does not match`,
    );
    expect(verified.code).toBe(1);
  }, 60_000);

  it('keeps no secret in any row: keys, tokens, client and provider secrets are all redacted', async () => {
    const rows = await allRows();
    expect(rows.length).toBeGreaterThanOrEqual(25);
    expect(secrets.length).toBeGreaterThanOrEqual(10);
    const everything = JSON.stringify(rows);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(10);
      expect(everything, `a secret starting ${secret.slice(0, 8)}`).not.toContain(secret);
    }
    expect(everything).toContain(REDACTED);
  });

  it('chains concurrent writes without gaps and signs a checkpoint every 100 events', async () => {
    const { db } = server.gatehouse.storage;
    await db.insert(organizations).values({ id: 'org_second', slug: 'second', name: 'Second' });
    const actor = { kind: 'system', id: null, label: 'test' } as const;
    await Promise.all(
      Array.from({ length: 250 }, (_unused, index) =>
        server.gatehouse.audit.record({ organizationId: 'org_second', actor, action: `test.${index}` }),
      ),
    );
    const rows = await db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.organizationId, 'org_second'))
      .orderBy(asc(auditEvents.seq));
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 250 }, (_unused, index) => index + 1));
    for (const [index, row] of rows.entries()) {
      expect(row.prevHash).toBe(index === 0 ? '0'.repeat(64) : rows[index - 1]?.hash);
    }
    const checkpoints = await db
      .select()
      .from(auditCheckpoints)
      .where(eq(auditCheckpoints.organizationId, 'org_second'))
      .orderBy(asc(auditCheckpoints.seq));
    expect(checkpoints.map((checkpoint) => checkpoint.seq)).toEqual([100, 200]);
    const jwks = createLocalJWKSet(
      (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet,
    );
    for (const checkpoint of checkpoints) {
      const { payload, protectedHeader } = await compactVerify(checkpoint.jws, jwks);
      expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'gatehouse-audit-checkpoint+jws' });
      expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({
        organization_id: 'org_second',
        seq: checkpoint.seq,
        hash: rows[checkpoint.seq - 1]?.hash,
      });
    }
  }, 60_000);

  it.runIf(canStartCluster)(
    'keeps one gapless chain when two instances write at once',
    async () => {
      const [first, second] = await startTestCluster(2, {});
      try {
        const actor = { kind: 'system', id: null, label: 'test' } as const;
        await Promise.all(
          [first, second].flatMap((instance) =>
            Array.from({ length: 40 }, (_unused, index) =>
              instance?.gatehouse.audit.record({
                organizationId: 'org_default',
                actor,
                action: `test.${index}`,
              }),
            ),
          ),
        );
        const rows = await first?.gatehouse.storage.db
          .select()
          .from(auditEvents)
          .orderBy(asc(auditEvents.seq));
        expect(rows?.map((row) => row.seq)).toEqual(
          Array.from({ length: 80 }, (_unused, index) => index + 1),
        );
        for (const [index, row] of (rows ?? []).entries()) {
          expect(row.prevHash).toBe(index === 0 ? '0'.repeat(64) : rows?.[index - 1]?.hash);
        }
      } finally {
        await Promise.all([first?.close(), second?.close()]);
      }
    },
    60_000,
  );

  it.runIf(canStartCluster)(
    'runs as a PostgreSQL role that, granted as docs/operations.md says, cannot change the log',
    async () => {
      const operations = readFileSync(
        fileURLToPath(new URL('../../../docs/operations.md', import.meta.url)),
        'utf8',
      );
      const grants = /```sql\n(GRANT[\s\S]*?)```/.exec(operations)?.[1];
      if (!grants) throw new Error('no GRANT block in docs/operations.md');
      const scratch = await createScratchDatabase(process.env.GATEHOUSE_TEST_POSTGRES_URL as string);
      const role = `gatehouse_app_${randomBytes(4).toString('hex')}`;
      const database = new URL(scratch.url).pathname.slice(1);
      const owner = new pg.Client({ connectionString: scratch.url });
      let runtime: TestGatehouse | undefined;
      try {
        // The owner migrates (as the first start after an upgrade does), then grants.
        await (await openDatabase({ kind: 'postgres', url: scratch.url })).close();
        await owner.connect();
        await owner.query(`CREATE ROLE ${role} LOGIN PASSWORD 'runtime'`);
        await owner.query(
          grants
            .replaceAll('gatehouse_app', role)
            .replace('ON DATABASE gatehouse ', `ON DATABASE ${database} `),
        );
        const runtimeUrl = new URL(scratch.url);
        runtimeUrl.username = role;
        runtimeUrl.password = 'runtime';
        runtime = await startTestGatehouseOn({ kind: 'postgres', url: runtimeUrl.toString() });

        const team = await fetch(`${runtime.url}/api/admin/teams`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'written by the runtime role' }),
        });
        expect(team.status).toBe(201);
        const verified = await cliAt(runtime.url, 'verify');
        expect(verified.output).toContain('audit chain intact: 1 event, last checkpoint seq 1');

        const asRuntime = new pg.Client({ connectionString: runtimeUrl.toString() });
        await asRuntime.connect();
        try {
          for (const statement of [
            'UPDATE audit_events SET action = action',
            'DELETE FROM audit_events',
            'TRUNCATE audit_events',
            'UPDATE audit_checkpoints SET hash = hash',
            'DELETE FROM audit_checkpoints',
          ]) {
            await expect(asRuntime.query(statement), statement).rejects.toMatchObject({ code: '42501' });
          }
          const { rows } = await asRuntime.query('SELECT count(*)::int AS count FROM audit_events');
          expect(rows[0].count).toBe(1);
        } finally {
          await asRuntime.end();
        }
      } finally {
        await runtime?.close();
        await owner.end().catch(() => {});
        await scratch.drop();
        const cleanup = new pg.Client({ connectionString: process.env.GATEHOUSE_TEST_POSTGRES_URL });
        await cleanup.connect();
        await cleanup.query(`DROP ROLE IF EXISTS ${role}`);
        await cleanup.end();
      }
    },
    60_000,
  );
});
