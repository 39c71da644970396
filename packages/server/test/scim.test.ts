import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliTokens } from '../src/control/cli-auth/tokens.js';
import { ensurePersonalProject, findPersonalProject } from '../src/control/personal-access.js';
import { createProject } from '../src/store/projects.js';
import { getUser, type UserRow } from '../src/store/users.js';
import {
  addPersonalKey,
  createPersonalCaller,
  type QuickStartGateway,
  startQuickStartGateway,
  type TestGatehouse,
} from './support/harness.js';

/**
 * SCIM 2.0 provisioning: an identity provider creates people and teams, and deactivating someone
 * cuts off every key, CLI sign-in and session of theirs on the very next request.
 */

const ENVIRONMENT_TOKEN = 'scim-environment-token-0123456789';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;
/** An admin-created token, as an identity provider is given. */
let token: string;

beforeAll(async () => {
  gateway = await startQuickStartGateway({ GATEHOUSE_SCIM_TOKEN: ENVIRONMENT_TOKEN });
  server = gateway.server;
  token = (await server.admin('POST', '/scim-tokens', { name: 'okta' })).token;
});
afterAll(() => gateway?.close());

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever SCIM resource comes back.
type Json = any;

async function scim(
  method: string,
  path: string,
  body?: unknown,
  options: { bearer?: string | null; raw?: string; contentType?: string } = {},
): Promise<{ status: number; json: Json; headers: Headers }> {
  const bearer = options.bearer === undefined ? token : options.bearer;
  const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const response = await fetch(`${server.url}/scim/v2${path}`, {
    method,
    headers: {
      ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
      ...(payload === undefined ? {} : { 'content-type': options.contentType ?? 'application/scim+json' }),
    },
    body: payload,
  });
  const text = await response.text();
  return {
    status: response.status,
    json: text === '' ? undefined : JSON.parse(text),
    headers: response.headers,
  };
}

function patch(...operations: unknown[]) {
  return { schemas: [PATCH_OP], Operations: operations };
}

function chat(key: string) {
  return fetch(`${server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

async function expectRevoked(key: string): Promise<void> {
  const refused = await chat(key);
  expect(refused.status).toBe(401);
  expect((await refused.json()).error.code).toBe('key_revoked');
}

async function provision(userName: string, extra: Record<string, unknown> = {}): Promise<Json> {
  const created = await scim('POST', '/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    ...extra,
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return created.json;
}

async function userRow(userId: string): Promise<UserRow> {
  const user = await getUser(server.gatehouse.storage.db, 'org_default', userId);
  if (!user) throw new Error(`no user ${userId}`);
  return user;
}

/** A personal key for a SCIM-provisioned person, as their first sign-in would mint. */
async function personalKeyFor(userId: string): Promise<{ key: string; projectId: string }> {
  const project = await ensurePersonalProject(server.gatehouse.storage.db, await userRow(userId));
  return { key: (await addPersonalKey(server, project.id, userId)).key, projectId: project.id };
}

async function adminUser(email: string): Promise<Json> {
  return (await server.admin('GET', `/users?email=${encodeURIComponent(email)}`)).data[0];
}

describe('SCIM tokens and authentication', () => {
  it('creates a token shown once, lists it without the token, and refuses no or a wrong bearer', async () => {
    const created = await server.admin('POST', '/scim-tokens', { name: 'entra' });
    expect(created).toEqual({
      id: expect.stringMatching(/^scim_/),
      name: 'entra',
      token: expect.stringMatching(/^ghs_[A-Za-z0-9_-]{43}$/),
      tokenHint: `ghs_…${created.token.slice(-4)}`,
      createdAt: expect.any(String),
    });
    const listed = await server.admin('GET', '/scim-tokens');
    expect(listed.data).toContainEqual({
      id: created.id,
      name: 'entra',
      tokenHint: created.tokenHint,
      createdAt: created.createdAt,
      revokedAt: null,
    });
    expect(JSON.stringify(listed)).not.toContain(created.token);

    for (const bearer of [null, 'ghs_not-a-token', `${created.token}x`]) {
      const refused = await scim('GET', '/Users', undefined, { bearer });
      expect(refused.status).toBe(401);
      expect(refused.json).toMatchObject({ schemas: [ERROR_SCHEMA], status: '401' });
      expect(refused.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    }
  });

  it('refuses a body nested deeper than any SCIM document with a SCIM 400, before walking it', async () => {
    const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    for (const contentType of ['application/scim+json', 'application/json']) {
      const raw = `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","value":${deep}}]}`;
      const answer = await scim('PATCH', '/Users/usr_nobody', undefined, { raw, contentType });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ schemas: [ERROR_SCHEMA], scimType: 'invalidSyntax' });
    }
  });

  it('accepts GATEHOUSE_SCIM_TOKEN for the default organisation', async () => {
    const answer = await scim('GET', '/Users?count=1', undefined, { bearer: ENVIRONMENT_TOKEN });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  });

  it('refuses an admin-created token from the request after it is revoked', async () => {
    const created = await server.admin('POST', '/scim-tokens', { name: 'short-lived' });
    expect((await scim('GET', '/Groups', undefined, { bearer: created.token })).status).toBe(200);
    await server.admin('DELETE', `/scim-tokens/${created.id}`);
    expect((await scim('GET', '/Groups', undefined, { bearer: created.token })).status).toBe(401);
    const listed = await server.admin('GET', '/scim-tokens');
    expect(listed.data.find((row: Json) => row.id === created.id).revokedAt).toEqual(expect.any(String));
    await expect(server.admin('DELETE', '/scim-tokens/scim_missing')).rejects.toThrow(/404/);
    await expect(server.admin('POST', '/scim-tokens', {})).rejects.toThrow(/400/);
  });

  it('describes itself: service provider config, resource types and schemas', async () => {
    const config = await scim('GET', '/ServiceProviderConfig');
    expect(config.json).toMatchObject({
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 200 },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
    const types = await scim('GET', '/ResourceTypes');
    expect(types.json.Resources.map((type: Json) => type.endpoint)).toEqual(['/Users', '/Groups']);
    const schemas = await scim('GET', '/Schemas');
    expect(schemas.json.totalResults).toBe(2);
    const user = await scim('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User');
    expect(user.json.attributes.map((attribute: Json) => attribute.name)).toContain('userName');
    const missing = await scim('GET', '/Nothing');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ schemas: [ERROR_SCHEMA], status: '404' });
  });
});

describe('deprovisioning people', () => {
  it('cuts a deactivated person off at once (Okta PATCH) and keeps their past usage', async () => {
    const user = await provision('Erin.Park@Example.com', {
      externalId: '00u-erin',
      name: { givenName: 'Erin', familyName: 'Park' },
    });
    expect(user).toMatchObject({
      id: expect.stringMatching(/^usr_/),
      userName: 'erin.park@example.com',
      externalId: '00u-erin',
      name: { formatted: 'Erin Park' },
      emails: [{ value: 'erin.park@example.com', primary: true, type: 'work' }],
      active: true,
      meta: { resourceType: 'User', location: `${server.url}/scim/v2/Users/${user.id}` },
    });

    // They sign in: a personal key, and a CLI sign-in with a refresh token.
    const personal = await personalKeyFor(user.id);
    const cli = await new CliTokens({
      db: server.gatehouse.storage.db,
      box: server.gatehouse.box,
      onKeysChange: () => {},
      audit: server.gatehouse.audit,
      now: () => new Date(),
    }).start(await userRow(user.id), 'gatehouse-cli', 'laptop');
    expect((await chat(personal.key)).status).toBe(200);
    expect((await chat(cli.access_token)).status).toBe(200);

    const deactivated = await scim(
      'PATCH',
      `/Users/${user.id}`,
      patch({ op: 'replace', value: { id: user.id, active: false } }),
    );
    expect(deactivated.status).toBe(200);
    expect(deactivated.json).toMatchObject({ id: user.id, active: false, name: { formatted: 'Erin Park' } });

    await expectRevoked(personal.key);
    await expectRevoked(cli.access_token);
    const refresh = await fetch(`${server.url}/api/auth/cli/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: cli.refresh_token,
        client_id: 'gatehouse-cli',
      }),
    });
    expect(refresh.status).toBe(401);
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });

    await server.flushUsage();
    const byPerson = await server.admin('GET', '/usage?groupBy=principal');
    expect(byPerson.rows.find((row: Json) => row.group === user.id)).toMatchObject({ requests: 2 });
    expect((await adminUser('erin.park@example.com')).disabledAt).toEqual(expect.any(String));
  });

  it('deactivates with Entra ID’s string booleans, and reactivates without reviving old keys', async () => {
    const user = await provision('frank@example.com');
    const { key } = await personalKeyFor(user.id);
    expect((await chat(key)).status).toBe(200);

    const off = await scim(
      'PATCH',
      `/Users/${user.id}`,
      patch({ op: 'Replace', path: 'active', value: 'False' }),
    );
    expect(off.json.active).toBe(false);
    await expectRevoked(key);

    const on = await scim(
      'PATCH',
      `/Users/${user.id}`,
      patch({ op: 'Replace', path: 'active', value: 'True' }),
    );
    expect(on.json.active).toBe(true);
    expect((await adminUser('frank@example.com')).disabledAt).toBeNull();
    await expectRevoked(key);
  });

  it('deletes by deactivating: keys refused, the person kept (inactive) for their usage', async () => {
    const user = await provision('gina@example.com');
    const { key } = await personalKeyFor(user.id);
    expect((await chat(key)).status).toBe(200);

    const deleted = await scim('DELETE', `/Users/${user.id}`);
    expect(deleted.status).toBe(204);
    await expectRevoked(key);
    expect((await scim('GET', `/Users/${user.id}`)).json).toMatchObject({ id: user.id, active: false });
  });

  it('deactivates a person who existed before SCIM (matched by userName) with PUT', async () => {
    const person = await createPersonalCaller(server, 'hank');
    const found = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "Hank@Example.com"')}`);
    expect(found.json).toMatchObject({ totalResults: 1, Resources: [{ id: person.userId }] });
    const replaced = await scim('PUT', `/Users/${person.userId}`, {
      userName: 'hank@example.com',
      displayName: 'Hank Hill',
      active: false,
    });
    expect(replaced.json).toMatchObject({ displayName: 'Hank Hill', active: false });
    await expectRevoked(person.key);
  });
});

describe('provisioning people', () => {
  it('refuses a duplicate userName with 409 uniqueness, and bad bodies with 400', async () => {
    await provision('ivy@example.com');
    const duplicate = await scim('POST', '/Users', { userName: 'IVY@example.com' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json).toEqual({
      schemas: [ERROR_SCHEMA],
      status: '409',
      scimType: 'uniqueness',
      detail: expect.any(String),
    });
    const missing = await scim('POST', '/Users', { name: { formatted: 'No Name' } });
    expect(missing.status).toBe(400);
    expect(missing.json.scimType).toBe('invalidValue');
    const malformed = await scim('POST', '/Users', undefined, { raw: '{"userName": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ schemas: [ERROR_SCHEMA], scimType: 'invalidSyntax' });
    const plainJson = await scim(
      'POST',
      '/Users',
      { userName: 'jack@example.com' },
      { contentType: 'application/json' },
    );
    expect(plainJson.status).toBe(201);
    const badPatch = await scim(
      'PATCH',
      `/Users/${plainJson.json.id}`,
      patch({ op: 'move', path: 'active' }),
    );
    expect(badPatch.status).toBe(400);
    expect((await scim('GET', '/Users/usr_missing')).status).toBe(404);
  });

  it('updates names the way Entra ID and Okta patch them', async () => {
    const user = await provision('kim@example.com', { name: { formatted: 'Kim Old' } });
    const renamed = await scim(
      'PATCH',
      `/Users/${user.id}`,
      patch(
        { op: 'Add', path: 'name.givenName', value: 'Kim' },
        { op: 'Replace', path: 'name.familyName', value: 'New' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'kim@example.com' },
        {
          op: 'Add',
          path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
          value: 'R&D',
        },
      ),
    );
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ name: { formatted: 'Kim New' }, active: true });
  });

  it('filters by userName, externalId, email and active, and pages with startIndex and count', async () => {
    await provision('lee@example.com', { externalId: 'ext-lee' });
    const query = async (filter: string) =>
      (await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`)).json;
    expect((await query('userName eq "LEE@example.com"')).Resources.map((u: Json) => u.userName)).toEqual([
      'lee@example.com',
    ]);
    expect((await query('externalId eq "ext-lee"')).totalResults).toBe(1);
    expect((await query('externalId eq "EXT-LEE"')).totalResults).toBe(0);
    expect((await query('emails[type eq "work"].value eq "lee@example.com"')).totalResults).toBe(1);
    expect((await query('emails.value eq "lee@example.com" and active eq true')).totalResults).toBe(1);
    expect((await query('userName eq "lee@example.com" and active eq false')).totalResults).toBe(0);
    const inactive = await query('active eq false');
    expect(inactive.Resources.length).toBeGreaterThan(0);
    for (const resource of inactive.Resources) expect(resource.active).toBe(false);

    for (const filter of [
      'userName co "lee"',
      'userName eq "a" or userName eq "b"',
      'userName eq',
      'title eq "x"',
    ]) {
      const refused = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect(refused.status, filter).toBe(400);
      expect(refused.json.scimType, filter).toBe('invalidFilter');
    }

    const all = (await scim('GET', '/Users?count=0')).json;
    expect(all).toMatchObject({ Resources: [], itemsPerPage: 0 });
    const total = all.totalResults as number;
    expect(total).toBeGreaterThan(4);
    const seen: string[] = [];
    for (let startIndex = 1; startIndex <= total && startIndex < 100; startIndex += 2) {
      const page = (await scim('GET', `/Users?startIndex=${startIndex}&count=2`)).json;
      expect(page).toMatchObject({
        totalResults: total,
        startIndex,
        itemsPerPage: Math.min(2, total - startIndex + 1),
      });
      seen.push(...page.Resources.map((resource: Json) => resource.id));
    }
    expect(new Set(seen).size).toBe(total);
    expect((await scim('GET', '/Users?count=abc')).status).toBe(400);
  });
});

describe('groups are teams', () => {
  it('moves a member and their personal project into the team, whose budget then governs them', async () => {
    const member = await createPersonalCaller(server, 'nora');
    const created = await scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Platform',
      externalId: 'grp-platform',
      members: [{ value: member.userId }],
    });
    expect(created.status).toBe(201);
    const group = created.json;
    expect(group).toMatchObject({
      id: expect.stringMatching(/^team_/),
      displayName: 'Platform',
      externalId: 'grp-platform',
      members: [{ value: member.userId, display: 'nora@example.com' }],
      meta: { resourceType: 'Group', location: `${server.url}/scim/v2/Groups/${group.id}` },
    });
    expect((await adminUser('nora@example.com')).teamId).toBe(group.id);
    const db = server.gatehouse.storage.db;
    expect((await findPersonalProject(db, member.userId))?.teamId).toBe(group.id);
    expect((await scim('GET', `/Users/${member.userId}`)).json.groups).toEqual([
      expect.objectContaining({ value: group.id, display: 'Platform' }),
    ]);

    // The cached key carried the old team; the move is seen on the next call.
    expect((await chat(member.key)).status).toBe(200);
    await server.admin('POST', '/budgets', {
      scope: 'team',
      scopeId: group.id,
      limitUsd: 0.000001,
      window: 'day',
      action: 'block',
    });
    await server.flushUsage();
    expect((await chat(member.key)).status).toBe(402);

    // Okta removes a member with a path filter; out of the team, out of its budget.
    const removed = await scim(
      'PATCH',
      `/Groups/${group.id}`,
      patch({ op: 'remove', path: `members[value eq "${member.userId}"]` }),
    );
    expect(removed.status).toBe(204);
    expect((await scim('GET', `/Groups/${group.id}`)).json.members).toEqual([]);
    expect((await adminUser('nora@example.com')).teamId).toBeNull();
    expect((await findPersonalProject(db, member.userId))?.teamId).toBeNull();
    expect((await chat(member.key)).status).toBe(200);
  });

  it('keeps a person in one team: adding them to another group moves them', async () => {
    const user = await provision('omar@example.com');
    const first = (await scim('POST', '/Groups', { displayName: 'First', members: [{ value: user.id }] }))
      .json;
    const second = (await scim('POST', '/Groups', { displayName: 'Second' })).json;
    const added = await scim(
      'PATCH',
      `/Groups/${second.id}`,
      patch({ op: 'add', path: 'members', value: [{ value: user.id, display: 'Omar' }] }),
    );
    expect(added.status).toBe(204);
    expect((await scim('GET', `/Groups/${first.id}`)).json.members).toEqual([]);
    expect((await scim('GET', `/Groups/${second.id}`)).json.members).toEqual([
      expect.objectContaining({ value: user.id }),
    ]);
    expect((await adminUser('omar@example.com')).teamId).toBe(second.id);

    // Entra ID: the members to remove in the value; a rename without a path.
    await scim(
      'PATCH',
      `/Groups/${second.id}`,
      patch(
        { op: 'Remove', path: 'members', value: [{ value: user.id }] },
        { op: 'Replace', value: { id: second.id, displayName: 'Second renamed' } },
      ),
    );
    expect((await scim('GET', `/Groups/${second.id}`)).json).toMatchObject({
      displayName: 'Second renamed',
      members: [],
    });

    const unknown = await scim(
      'PATCH',
      `/Groups/${second.id}`,
      patch({ op: 'add', path: 'members', value: [{ value: 'usr_nobody' }] }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.json.scimType).toBe('invalidValue');
    const duplicate = await scim('POST', '/Groups', { displayName: 'first' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.scimType).toBe('uniqueness');
  });

  it('filters by displayName and externalId, and leaves members out when asked', async () => {
    await scim('POST', '/Groups', { displayName: 'Data Science', externalId: 'grp-ds' });
    const byName = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "data science"')}`);
    expect(byName.json).toMatchObject({ totalResults: 1, Resources: [{ displayName: 'Data Science' }] });
    const byExternalId = await scim(
      'GET',
      `/Groups?excludedAttributes=members&filter=${encodeURIComponent('externalId eq "grp-ds"')}`,
    );
    expect(byExternalId.json.totalResults).toBe(1);
    expect(byExternalId.json.Resources[0]).not.toHaveProperty('members');
    const invalid = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName sw "Data"')}`);
    expect(invalid.json.scimType).toBe('invalidFilter');
  });

  it('replaces with PUT, and deletes: members leave; a team a shared project uses is kept', async () => {
    const user = await provision('pia@example.com');
    const group = (await scim('POST', '/Groups', { displayName: 'Temp', externalId: 'grp-temp' })).json;
    const replaced = await scim('PUT', `/Groups/${group.id}`, {
      displayName: 'Temporary',
      members: [{ value: user.id }],
    });
    expect(replaced.json).toMatchObject({ displayName: 'Temporary', members: [{ value: user.id }] });
    expect(replaced.json).not.toHaveProperty('externalId');

    expect((await scim('DELETE', `/Groups/${group.id}`)).status).toBe(204);
    expect((await scim('GET', `/Groups/${group.id}`)).status).toBe(404);
    expect((await adminUser('pia@example.com')).teamId).toBeNull();

    const shared = (await scim('POST', '/Groups', { displayName: 'Shared', externalId: 'grp-shared' })).json;
    await createProject(server.gatehouse.storage.db, 'org_default', { name: 'shared', teamId: shared.id });
    expect((await scim('DELETE', `/Groups/${shared.id}`)).status).toBe(204);
    const kept = await scim('GET', `/Groups/${shared.id}`);
    expect(kept.status).toBe(200);
    expect(kept.json).toMatchObject({ displayName: 'Shared', members: [] });
    expect(kept.json).not.toHaveProperty('externalId');
  });
});
