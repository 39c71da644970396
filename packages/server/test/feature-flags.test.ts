import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { flagGatingAdminPath } from '../src/control/feature-flags.js';
import { organizations } from '../src/store/schema.js';
import { type Browser, signedInBrowser } from './support/cli-sign-in.js';
import {
  ADMIN_TOKEN,
  createPersonalCaller,
  type PersonalCaller,
  type QuickStartGateway,
  startQuickStartGateway,
} from './support/harness.js';

/**
 * Release flags: both on for a new organisation; an owner switches one off and its admin routes
 * answer as if they did not exist, for every kind of caller, while the rest of the admin API and
 * the gateway keep serving; only owners switch them; FEATURE_FLAG_FORCE_ENABLE overrides the
 * organisation; unknown names are refused at start and in the API.
 */

const GATEWAY_MENU = 'release_ui_ai_gateway_menu_enabled';
const GOVERNANCE = 'release_ui_ai_governance_enabled';

// biome-ignore lint/suspicious/noExplicitAny: API answers are read as the test needs them.
type Json = any;

/** One way of calling the admin API: a bearer (bootstrap, admin token, personal key) or a session cookie. */
type Caller = { bearer: string } | { cookie: string };

async function call(
  gateway: QuickStartGateway,
  caller: Caller,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${gateway.server.url}${path}`, {
    method,
    headers: {
      ...('bearer' in caller ? { authorization: `Bearer ${caller.bearer}` } : { cookie: caller.cookie }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

async function chatStatus(gateway: QuickStartGateway, key: string): Promise<number> {
  const response = await fetch(`${gateway.server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 8,
    }),
  });
  await response.arrayBuffer();
  return response.status;
}

async function messagesStatus(gateway: QuickStartGateway, key: string): Promise<number> {
  const response = await fetch(`${gateway.server.url}/api/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'claude-haiku-4-5',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('release flags per organisation', () => {
  let gateway: QuickStartGateway;
  let owner: PersonalCaller;
  let admin: PersonalCaller;
  let adminToken: string;
  let session: Browser;
  const bootstrap: Caller = { bearer: ADMIN_TOKEN };

  beforeAll(async () => {
    gateway = await startQuickStartGateway();
    owner = await createPersonalCaller(gateway.server, 'olive');
    admin = await createPersonalCaller(gateway.server, 'adam');
    await gateway.server.admin('POST', '/role-bindings', {
      role: 'owner',
      subject: { kind: 'user', id: owner.userId },
    });
    await gateway.server.admin('POST', '/role-bindings', {
      role: 'admin',
      subject: { kind: 'user', id: admin.userId },
    });
    adminToken = (await gateway.server.admin('POST', '/tokens', { name: 'automation', role: 'admin' })).token;
    session = await signedInBrowser(gateway.server, 'sam@example.com');
    await gateway.server.admin('POST', '/role-bindings', {
      role: 'admin',
      subject: { kind: 'user', id: session.user.id },
    });
  }, 30_000);
  afterAll(async () => {
    await gateway?.close();
  });

  it('are all on for a new organisation, neither forced, in /organization and /api/me', async () => {
    const organization = await call(gateway, bootstrap, 'GET', '/api/admin/organization');
    expect(organization.status).toBe(200);
    expect(organization.body.featureFlags).toEqual({
      [GATEWAY_MENU]: { enabled: true, forced: false },
      [GOVERNANCE]: { enabled: true, forced: false },
    });
    const me = await call(gateway, { bearer: owner.key }, 'GET', '/api/me');
    expect(me.body.featureFlags).toEqual({ [GATEWAY_MENU]: true, [GOVERNANCE]: true });
  });

  it('lets an admin change the other settings but not the flags (403 naming the permission)', async () => {
    for (const caller of [{ bearer: admin.key }, { bearer: adminToken }]) {
      const refused = await call(gateway, caller, 'PATCH', '/api/admin/organization', {
        name: 'Acme',
        featureFlags: { [GOVERNANCE]: false },
      });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('forbidden');
      expect(refused.body.error.message).toContain('featureFlags:manage');
    }
    const renamed = await call(gateway, { bearer: admin.key }, 'PATCH', '/api/admin/organization', {
      name: 'Acme',
      timeZone: 'Europe/Lisbon',
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Acme');
    expect(renamed.body.featureFlags[GOVERNANCE].enabled).toBe(true);
  });

  it('refuses flag names and values outside the catalogue', async () => {
    const unknown = await call(gateway, { bearer: owner.key }, 'PATCH', '/api/admin/organization', {
      featureFlags: { release_ui_everything: false },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('release_ui_everything');
    const notBoolean = await call(gateway, { bearer: owner.key }, 'PATCH', '/api/admin/organization', {
      featureFlags: { [GATEWAY_MENU]: 'off' },
    });
    expect(notBoolean.status).toBe(400);
    expect(notBoolean.body.error.code).toBeTypeOf('string');
  });

  it('hides the gateway menu from every caller once the owner switches it off; the rest and the gateway serve on', async () => {
    const switched = await call(gateway, { bearer: owner.key }, 'PATCH', '/api/admin/organization', {
      featureFlags: { [GATEWAY_MENU]: false },
    });
    expect(switched.status).toBe(200);
    expect(switched.body.featureFlags).toEqual({
      [GATEWAY_MENU]: { enabled: false, forced: false },
      [GOVERNANCE]: { enabled: true, forced: false },
    });
    const me = await call(gateway, { bearer: owner.key }, 'GET', '/api/me');
    expect(me.body.featureFlags).toEqual({ [GATEWAY_MENU]: false, [GOVERNANCE]: true });

    const callers: [string, Caller][] = [
      ['bootstrap', bootstrap],
      ['admin token', { bearer: adminToken }],
      ['personal key', { bearer: owner.key }],
      ['session', { cookie: session.cookie }],
    ];
    const gated = [
      ['GET', '/api/admin/providers'],
      ['GET', `/api/admin/providers/${gateway.setup.openAiProviderId}`],
      ['GET', '/api/admin/routing-policies'],
      ['GET', '/api/admin/budgets'],
      ['GET', '/api/admin/rate-limits'],
      ['GET', '/api/admin/virtual-keys'],
      ['GET', `/api/admin/virtual-keys/${gateway.setup.keyId}`],
      ['GET', '/api/admin/projects'],
    ] as const;
    for (const [kind, caller] of callers) {
      for (const [method, path] of gated) {
        const answer = await call(gateway, caller, method, path);
        expect(answer.status, `${kind} ${method} ${path}`).toBe(404);
        // Word for word what a route that does not exist answers.
        expect(answer.body).toEqual({
          error: { code: 'not_found', message: `No route for ${method} ${path}` },
        });
      }
      for (const path of ['/api/admin/organization', '/api/admin/usage', '/api/admin/teams']) {
        expect((await call(gateway, caller, 'GET', path)).status, `${kind} GET ${path}`).toBe(200);
      }
    }
    const missing = await call(gateway, bootstrap, 'GET', '/api/admin/no-such-thing');
    expect(missing.body).toEqual({
      error: { code: 'not_found', message: 'No route for GET /api/admin/no-such-thing' },
    });
    // Changes are hidden too, before their permission or their body is even looked at.
    const create = await call(gateway, { bearer: adminToken }, 'POST', '/api/admin/virtual-keys', {
      projectId: gateway.setup.projectId,
      name: 'hidden',
    });
    expect(create.status).toBe(404);
    const revoke = await call(gateway, bootstrap, 'DELETE', `/api/admin/virtual-keys/${gateway.setup.keyId}`);
    expect(revoke.status).toBe(404);
    // A path the router decodes to a gated route is gated as well.
    expect((await call(gateway, bootstrap, 'GET', '/api/admin/%70roviders')).status).toBe(404);

    // The data plane never looks at release flags.
    expect(await chatStatus(gateway, gateway.setup.key)).toBe(200);
    expect(await messagesStatus(gateway, gateway.setup.key)).toBe(200);

    // The switch is in the audit log, and back on the routes answer again.
    const audit = await call(gateway, bootstrap, 'GET', '/api/admin/audit?action=organization.update');
    expect(
      audit.body.data.some((event: Json) => event.after?.featureFlags?.[GATEWAY_MENU]?.enabled === false),
    ).toBe(true);
    await call(gateway, { bearer: owner.key }, 'PATCH', '/api/admin/organization', {
      featureFlags: { [GATEWAY_MENU]: true },
    });
    expect((await call(gateway, { bearer: adminToken }, 'GET', '/api/admin/providers')).status).toBe(200);
    expect((await call(gateway, bootstrap, 'GET', '/api/admin/%70roviders')).status).toBe(200);
  });

  it('gates the governance API prefix and keeps the other flag as it was', async () => {
    expect(flagGatingAdminPath('/governance')).toBe(GOVERNANCE);
    expect(flagGatingAdminPath('/governance/summary')).toBe(GOVERNANCE);
    expect(flagGatingAdminPath('/governance-x')).toBeUndefined();
    expect(flagGatingAdminPath('/budgets/:id')).toBe(GATEWAY_MENU);
    expect(flagGatingAdminPath('/claude-code-settings')).toBeUndefined();
    const switched = await call(gateway, { bearer: owner.key }, 'PATCH', '/api/admin/organization', {
      featureFlags: { [GOVERNANCE]: false },
    });
    expect(switched.body.featureFlags[GOVERNANCE].enabled).toBe(false);
    expect(switched.body.featureFlags[GATEWAY_MENU].enabled).toBe(true);
    const summary = await call(gateway, bootstrap, 'GET', '/api/admin/governance/summary');
    expect(summary.status).toBe(404);
    expect(summary.body.error.code).toBe('not_found');
    expect((await call(gateway, bootstrap, 'GET', '/api/admin/budgets')).status).toBe(200);
  });
});

describe('FEATURE_FLAG_FORCE_ENABLE', () => {
  let gateway: QuickStartGateway;
  let owner: PersonalCaller;

  beforeAll(async () => {
    gateway = await startQuickStartGateway({ FEATURE_FLAG_FORCE_ENABLE: ` ${GATEWAY_MENU} ` });
    owner = await createPersonalCaller(gateway.server, 'olga');
    await gateway.server.admin('POST', '/role-bindings', {
      role: 'owner',
      subject: { kind: 'user', id: owner.userId },
    });
  }, 30_000);
  afterAll(async () => {
    await gateway?.close();
  });

  it('forces a flag on whatever the organisation holds, and refuses to switch it off', async () => {
    // As if an owner had switched it off before the deployment forced it.
    await gateway.server.gatehouse.storage.db
      .update(organizations)
      .set({ featureFlags: { [GATEWAY_MENU]: false, [GOVERNANCE]: false } })
      .where(eq(organizations.id, 'org_default'));
    const organization = await call(gateway, { bearer: owner.key }, 'GET', '/api/admin/organization');
    expect(organization.body.featureFlags).toEqual({
      [GATEWAY_MENU]: { enabled: true, forced: true },
      [GOVERNANCE]: { enabled: false, forced: false },
    });
    expect((await call(gateway, { bearer: owner.key }, 'GET', '/api/admin/providers')).status).toBe(200);
    const me = await call(gateway, { bearer: owner.key }, 'GET', '/api/me');
    expect(me.body.featureFlags).toEqual({ [GATEWAY_MENU]: true, [GOVERNANCE]: false });

    const refused = await call(gateway, { bearer: owner.key }, 'PATCH', '/api/admin/organization', {
      featureFlags: { [GATEWAY_MENU]: false },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('feature_flag_forced');
    expect(refused.body.error.message).toContain('FEATURE_FLAG_FORCE_ENABLE');
  });

  it('stops the start on a name that is not a flag, naming it and the setting', () => {
    const start = () => loadConfig({ FEATURE_FLAG_FORCE_ENABLE: `${GOVERNANCE},release_ui_ai_gateway_menu` });
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(/FEATURE_FLAG_FORCE_ENABLE names unknown flags "release_ui_ai_gateway_menu"/);
    expect([...loadConfig({}).forcedFeatureFlags]).toEqual([]);
    expect([
      ...loadConfig({ FEATURE_FLAG_FORCE_ENABLE: `${GOVERNANCE},${GATEWAY_MENU}` }).forcedFeatureFlags,
    ]).toEqual([GOVERNANCE, GATEWAY_MENU]);
  });
});
