import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  type QuickStartGateway,
  startQuickStartGateway,
  type TestGatehouse,
} from './support/harness.js';
import { type OidcProvider, startOidcProvider } from './support/oidc-provider.js';
import { SsoBrowser } from './support/sso-browser.js';

/**
 * Roles that follow the identity provider: a group in the OIDC `groups` claim, or a SCIM group,
 * named in a role binding, gives its role to whoever is in it — signed in through a real OIDC
 * provider and administering from the browser session — and takes it away once they are not.
 */

const CLIENT_ID = 'gatehouse';
const CLIENT_SECRET = 'rbac-provider-client-secret-0123456789';
const SCIM_TOKEN = 'scim-environment-token-for-rbac-0123456789';
const SCIM = 'application/scim+json';

let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;
let provider: OidcProvider | undefined;

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
      lin: { email: 'lin@example.com', email_verified: true, name: 'Lin Admin', groups: ['platform-admins'] },
      fin: { email: 'fin@example.com', email_verified: true, name: 'Fin Ance', groups: [] },
    },
  });
  gateway = await startQuickStartGateway({
    PORT: String(port),
    GATEHOUSE_OIDC_ISSUER: provider.issuer,
    GATEHOUSE_OIDC_CLIENT_ID: CLIENT_ID,
    GATEHOUSE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
    GATEHOUSE_SCIM_TOKEN: SCIM_TOKEN,
  });
  server = gateway.server;
}, 30_000);

afterAll(async () => {
  await gateway?.close();
  await provider?.close();
});

/** Signs in through the provider and returns the browser with its session and CSRF token. */
async function signIn(accountId: string): Promise<{ browser: SsoBrowser; csrf: string }> {
  const browser = new SsoBrowser(server.url, provider as OidcProvider, accountId);
  const { response } = await browser.visit(
    `/api/auth/sso/login?return_to=${encodeURIComponent('/api/auth/session')}`,
  );
  expect(response.status).toBe(200);
  const session = (await response.json()) as { csrfToken: string };
  return { browser, csrf: session.csrfToken };
}

async function scim(method: string, path: string, body: unknown) {
  const response = await fetch(`${server.url}/scim/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': SCIM },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

describe('roles from the OIDC groups claim', () => {
  it('makes a person in a mapped group an admin on sign-in, and not once the group is gone', async () => {
    await server.admin('POST', '/role-bindings', {
      role: 'admin',
      subject: { kind: 'idpGroup', id: 'platform-admins' },
    });

    const { browser, csrf } = await signIn('lin');
    const me = await browser.api('GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe('lin@example.com');
    expect(me.body.permissions).toContain('providers:manage');
    expect((await browser.api('GET', '/api/admin/providers')).status).toBe(200);

    // The browser session is an admin caller like a token, and its changes need its CSRF token.
    const forged = await browser.api('POST', '/api/admin/teams', { body: { name: 'from elsewhere' } });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('csrf_failed');
    const made = await browser.api('POST', '/api/admin/teams', {
      body: { name: 'made in the browser' },
      headers: { 'x-csrf-token': csrf },
    });
    expect(made.status).toBe(201);

    // The IdP's administrator takes Lin out of the group; the next sign-in carries no group.
    await (provider as OidcProvider).setGroups('lin', []);
    const again = await signIn('lin');
    expect((await again.browser.api('GET', '/api/admin/providers')).status).toBe(403);
    const after = await again.browser.api('GET', '/api/me');
    expect(after.body.permissions).toEqual(['gateway:use']);
    // The audit log says why: the provider changed Lin's groups at that sign-in.
    const changes = await server.admin(
      'GET',
      `/audit?action=user.idp_groups_change&targetId=${after.body.user.id}`,
    );
    expect(
      changes.data.map((event: { before: unknown; after: unknown }) => [event.before, event.after]),
    ).toEqual([
      [{ idpGroups: ['platform-admins'] }, { idpGroups: [] }],
      [{ idpGroups: [] }, { idpGroups: ['platform-admins'] }],
    ]);
  });
});

describe('roles from SCIM groups', () => {
  it('gives the role of a bound SCIM group to its members, and takes it on the next request once removed', async () => {
    const { browser } = await signIn('fin');
    expect((await browser.api('GET', '/api/admin/usage')).status).toBe(403);
    const fin = (await browser.api('GET', '/api/me')).body.user;

    // The IdP provisions a Finance group with Fin in it; billing is bound to that group (a team).
    const group = await scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Finance',
      members: [{ value: fin.id }],
    });
    expect(group.status).toBe(201);
    await server.admin('POST', '/role-bindings', {
      role: 'billing',
      subject: { kind: 'team', id: group.json.id },
    });

    expect((await browser.api('GET', '/api/admin/usage')).status).toBe(200);
    expect((await browser.api('GET', '/api/admin/providers')).status).toBe(403);

    const removed = await scim('PATCH', `/Groups/${group.json.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: `members[value eq "${fin.id}"]` }],
    });
    expect([200, 204]).toContain(removed.status);
    // The same session, the very next request: the role went with the group.
    expect((await browser.api('GET', '/api/admin/usage')).status).toBe(403);
  });
});

describe('one browser in several organisations', () => {
  it('acts in each organisation it signed in to, by header or by switching, and in no other', async () => {
    const globex = await server.admin('POST', '/organizations', { name: 'Globex', slug: 'globex' });
    // Globex's own audit log starts with its creation, by the operator.
    const globexLog = await fetch(`${server.url}/api/admin/audit`, {
      headers: { authorization: `Bearer ${globex.ownerToken.token}` },
    });
    expect((await globexLog.json()).data).toEqual([
      expect.objectContaining({
        action: 'organization.create',
        actorKind: 'bootstrap',
      }),
    ]);
    const asGlobexOwner = async (method: string, path: string, body: unknown) =>
      fetch(`${server.url}/api/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${globex.ownerToken.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // Globex connects the same identity provider and makes Lin a viewer there.
    expect(
      (
        await asGlobexOwner('PUT', '/sso/oidc', {
          issuer: (provider as OidcProvider).issuer,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
        })
      ).status,
    ).toBe(200);

    const { browser } = await signIn('lin'); // the default organisation
    const home = (await browser.api('GET', '/api/me')).body;
    const { response } = await browser.visit(
      `/api/auth/sso/login?organization=globex&return_to=${encodeURIComponent('/api/auth/session')}`,
    );
    expect(response.status).toBe(200);
    const me = (await browser.api('GET', '/api/me')).body;
    expect(me.organization.id).toBe(globex.id);
    expect(me.user.id).not.toBe(home.user.id); // one person, one account per organisation
    expect(me.organizations.map((organization: { id: string }) => organization.id).sort()).toEqual(
      [globex.id, home.organization.id].sort(),
    );
    expect(
      (
        await asGlobexOwner('POST', '/role-bindings', {
          role: 'viewer',
          subject: { kind: 'user', id: me.user.id },
        })
      ).status,
    ).toBe(201);

    // Now in Globex: a viewer there. The header picks the other organisation for one request.
    expect((await browser.api('GET', '/api/admin/organization')).body.id).toBe(globex.id);
    // At home Lin is only a member now (the first test took her group away): her own page answers.
    const atHome = await browser.api('GET', '/api/me', {
      headers: { 'x-gatehouse-organization': home.organization.id },
    });
    expect(atHome.status).toBe(200);
    expect(atHome.body.user.id).toBe(home.user.id);
    const adminAtHome = await browser.api('GET', '/api/admin/organization', {
      headers: { 'x-gatehouse-organization': home.organization.id },
    });
    expect(adminAtHome.status).toBe(403);
    // Switching makes the default organisation current again.
    const csrf = ((await browser.api('GET', '/api/auth/session')).body as { csrfToken: string }).csrfToken;
    const switched = await browser.api('POST', '/api/me/organization', {
      body: { organizationId: home.organization.id },
      headers: { 'x-csrf-token': csrf },
    });
    expect(switched.status).toBe(204);
    expect((await browser.api('GET', '/api/me')).body.organization.id).toBe(home.organization.id);

    // An organisation it never signed in to is not there for it.
    const stranger = await server.admin('POST', '/organizations', { name: 'Initech', slug: 'initech' });
    const refused = await browser.api('GET', '/api/admin/organization', {
      headers: { 'x-gatehouse-organization': stranger.id },
    });
    expect(refused.status).toBe(401);
    const notSwitched = await browser.api('POST', '/api/me/organization', {
      body: { organizationId: stranger.id },
      headers: { 'x-csrf-token': csrf },
    });
    expect(notSwitched.status).toBe(404);
  });
});
