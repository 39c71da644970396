import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTE_PERMISSIONS } from '../src/control/admin/route-permissions.js';
import { BUILT_IN_ROLE_PERMISSIONS, type Permission } from '../src/control/permissions.js';
import {
  ADMIN_TOKEN,
  createPersonalCaller,
  type PersonalCaller,
  startTestGatehouse,
  type TestGatehouse,
} from './support/harness.js';

/**
 * Who may do what, walked route by route against a real server: every admin route and every
 * `/api/me` route, called by people holding each built-in role and a custom role, bound over the
 * organisation, one team or one project (and through their team), each answer checked against
 * the permission catalogue. Then the walls between organisations.
 */

// biome-ignore lint/suspicious/noExplicitAny: API answers are read as the test needs them.
type Json = any;

let server: TestGatehouse;

async function call(
  bearer: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

const bootstrap = (method: string, path: string, body?: unknown) =>
  call(ADMIN_TOKEN, method, `/api/admin${path}`, body);

async function created(method: string, path: string, body: unknown): Promise<Json> {
  const answer = await bootstrap(method, path, body);
  expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
  return answer.body;
}

/** The objects the walk reads, in the default organisation. */
interface Fixtures {
  teamA: string;
  teamB: string;
  projectA: string;
  projectB: string;
  keyA: string;
  keyB: string;
  budgetTeamA: string;
  budgetTeamB: string;
  budgetProjectA: string;
  budgetOrganization: string;
  leadRole: string;
}

let fixtures: Fixtures;

/** What a team lead is given: their team's budgets and keys, and nothing of anyone else's. */
const LEAD_PERMISSIONS: Permission[] = [
  'budgets:view',
  'budgets:manage',
  'virtualKeys:view',
  'virtualKeys:manage',
];

async function setUpFixtures(): Promise<Fixtures> {
  const teamA = (await created('POST', '/teams', { name: 'alpha' })).id;
  const teamB = (await created('POST', '/teams', { name: 'beta' })).id;
  const projectA = (await created('POST', '/projects', { name: 'alpha service' })).id;
  const projectB = (await created('POST', '/projects', { name: 'beta service' })).id;
  await created('PATCH', `/projects/${projectA}`, { teamId: teamA });
  await created('PATCH', `/projects/${projectB}`, { teamId: teamB });
  const keyA = (await created('POST', '/virtual-keys', { projectId: projectA, name: 'alpha agent' })).id;
  const keyB = (await created('POST', '/virtual-keys', { projectId: projectB, name: 'beta agent' })).id;
  const budget = (scope: string, scopeId: string) =>
    created('POST', '/budgets', { scope, scopeId, limitUsd: 50, window: 'month', action: 'block' });
  const budgetTeamA = (await budget('team', teamA)).id;
  const budgetTeamB = (await budget('team', teamB)).id;
  const budgetProjectA = (await budget('project', projectA)).id;
  const budgetOrganization = (await budget('org', 'org_default')).id;
  const leadRole = (await created('POST', '/roles', { name: 'team lead', permissions: LEAD_PERMISSIONS })).id;
  return {
    teamA,
    teamB,
    projectA,
    projectB,
    keyA,
    keyB,
    budgetTeamA,
    budgetTeamB,
    budgetProjectA,
    budgetOrganization,
    leadRole,
  };
}

/** One person of the walk: how their role reaches them, and what they hold over the organisation. */
interface Case {
  name: string;
  binding?: (person: PersonalCaller) => Json;
  /** Held over the whole organisation (membership's gateway:use included). */
  everywhere: ReadonlySet<Permission>;
  /** Held over one team or project only. */
  scoped?: { permissions: ReadonlySet<Permission> };
}

const member = BUILT_IN_ROLE_PERMISSIONS.member;
const union = (...sets: ReadonlySet<Permission>[]) => new Set(sets.flatMap((set) => [...set]));

/** The team-lead custom role bound to the person over one team or project only (known once made). */
function leadAt(name: string, scope: () => { kind: 'team' | 'project'; id: string }): Case {
  return {
    name,
    binding: (person) => ({
      role: fixtures.leadRole,
      subject: { kind: 'user', id: person.userId },
      scope: scope(),
    }),
    everywhere: member,
    scoped: { permissions: new Set(LEAD_PERMISSIONS) },
  };
}

function cases(): Case[] {
  const builtIn = (['owner', 'admin', 'viewer', 'billing'] as const).map(
    (role): Case => ({
      name: role,
      binding: (person) => ({ role, subject: { kind: 'user', id: person.userId } }),
      everywhere: union(BUILT_IN_ROLE_PERMISSIONS[role], member),
    }),
  );
  const lead = new Set(LEAD_PERMISSIONS);
  return [
    ...builtIn,
    { name: 'member', everywhere: member },
    {
      name: 'custom-organization',
      binding: (person) => ({ role: fixtures.leadRole, subject: { kind: 'user', id: person.userId } }),
      everywhere: union(lead, member),
    },
    leadAt('custom-team', () => ({ kind: 'team', id: fixtures.teamA })),
    leadAt('custom-project', () => ({ kind: 'project', id: fixtures.projectA })),
    {
      // Bound to the person's team, not to them: every member of the team holds it.
      name: 'team-viewer',
      binding: (person) => ({ role: 'viewer', subject: { kind: 'team', id: person.teamId } }),
      everywhere: union(BUILT_IN_ROLE_PERMISSIONS.viewer, member),
    },
  ];
}

const PLACE_CHECKED = /^(POST|GET|PATCH|DELETE) \/(budgets|virtual-keys)(\/:id(\/rotate)?)?$/;

/** A URL for the route that touches nothing real: reads get a real object, changes a missing one. */
function urlFor(route: string): string {
  const [method, path = ''] = route.split(' ');
  const reads: Record<string, string> = {
    providers: 'prov_missing',
    'routing-policies': 'pol_missing',
    projects: fixtures.projectA,
    'virtual-keys': fixtures.keyA,
    budgets: fixtures.budgetTeamA,
    'rate-limits': 'rl_missing',
  };
  const collection = path.split('/')[1] ?? '';
  const id = method === 'GET' ? (reads[collection] ?? 'missing') : 'missing';
  return `/api/admin${path.replace(':id', id).replace(':protocol', 'oidc')}`;
}

const bodyFor = (method: string) => (['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined);

const people = new Map<string, PersonalCaller>();

beforeAll(async () => {
  server = await startTestGatehouse();
  fixtures = await setUpFixtures();
  for (const testCase of cases()) {
    const person = await createPersonalCaller(server, testCase.name.replace(/-/g, '_'));
    if (testCase.binding) await created('POST', '/role-bindings', testCase.binding(person));
    people.set(testCase.name, person);
  }
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('every admin route, for every role and binding', () => {
  for (const testCase of cases()) {
    it(`answers ${testCase.name} on every admin route as the catalogue says`, async () => {
      const person = people.get(testCase.name) as PersonalCaller;
      let allowedCount = 0;
      for (const [route, needed] of Object.entries(ADMIN_ROUTE_PERMISSIONS) as [string, Permission][]) {
        const [method = 'GET'] = route.split(' ');
        const answer = await call(person.key, method, urlFor(route), bodyFor(method));
        const allowed =
          testCase.everywhere.has(needed) ||
          (PLACE_CHECKED.test(route) && testCase.scoped?.permissions.has(needed) === true);
        if (allowed) {
          allowedCount += 1;
          expect([401, 403], `${testCase.name} ${route} → ${answer.status}`).not.toContain(answer.status);
        } else {
          expect(answer.status, `${testCase.name} ${route}`).toBe(403);
          expect(answer.body.error).toMatchObject({
            code: 'forbidden',
            message: expect.stringContaining(needed),
          });
        }
      }
      // The walk let through exactly what the role holds: a member nothing, an owner all but one.
      if (testCase.name === 'member') expect(allowedCount).toBe(0);
      if (testCase.name === 'owner') {
        expect(allowedCount).toBe(Object.keys(ADMIN_ROUTE_PERMISSIONS).length - 1); // organizations:create
      }
    });
  }

  it('gives the same answers to an admin token holding the same role', async () => {
    const token = (await created('POST', '/tokens', { name: 'viewer automation', role: 'viewer' })).token;
    for (const [route, needed] of Object.entries(ADMIN_ROUTE_PERMISSIONS) as [string, Permission][]) {
      const [method = 'GET'] = route.split(' ');
      const answer = await call(token, method, urlFor(route), bodyFor(method));
      if (BUILT_IN_ROLE_PERMISSIONS.viewer.has(needed)) expect(answer.status, route).not.toBe(403);
      else expect(answer.status, route).toBe(403);
    }
  });
});

describe('grants scoped to a team or a project', () => {
  const ids = (answer: { body: Json }) => answer.body.data.map((row: Json) => row.id);

  it("lets a team's lead see and change that team's budgets and keys, and nobody else's", async () => {
    const lead = (people.get('custom-team') as PersonalCaller).key;
    const budgets = ids(await call(lead, 'GET', '/api/admin/budgets'));
    expect(budgets).toEqual(expect.arrayContaining([fixtures.budgetTeamA, fixtures.budgetProjectA]));
    expect(budgets).not.toContain(fixtures.budgetTeamB);
    expect(budgets).not.toContain(fixtures.budgetOrganization);

    expect(
      (await call(lead, 'PATCH', `/api/admin/budgets/${fixtures.budgetTeamA}`, { limitUsd: 70 })).status,
    ).toBe(200);
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { limitUsd: 1 }],
      ['DELETE', undefined],
    ] as const) {
      for (const outside of [fixtures.budgetTeamB, fixtures.budgetOrganization]) {
        expect(
          (await call(lead, method, `/api/admin/budgets/${outside}`, body)).status,
          `${method} ${outside}`,
        ).toBe(404);
      }
    }
    const newBudget = { limitUsd: 5, window: 'day', action: 'alert' };
    expect(
      (
        await call(lead, 'POST', '/api/admin/budgets', {
          ...newBudget,
          scope: 'team',
          scopeId: fixtures.teamB,
        })
      ).status,
    ).toBe(403);
    expect(
      (await call(lead, 'POST', '/api/admin/budgets', { ...newBudget, scope: 'org', scopeId: 'org_default' }))
        .status,
    ).toBe(403);
    expect(
      (
        await call(lead, 'POST', '/api/admin/budgets', {
          ...newBudget,
          scope: 'team',
          scopeId: fixtures.teamA,
        })
      ).status,
    ).toBe(201);

    const keys = ids(await call(lead, 'GET', '/api/admin/virtual-keys'));
    expect(keys).toContain(fixtures.keyA);
    expect(keys).not.toContain(fixtures.keyB);
    expect((await call(lead, 'DELETE', `/api/admin/virtual-keys/${fixtures.keyB}`)).status).toBe(404);
    expect(
      (await call(lead, 'POST', '/api/admin/virtual-keys', { projectId: fixtures.projectB, name: 'x' }))
        .status,
    ).toBe(403);
    const minted = await call(lead, 'POST', '/api/admin/virtual-keys', {
      projectId: fixtures.projectA,
      name: 'lead-made',
    });
    expect(minted.status).toBe(201);
    expect((await call(lead, 'DELETE', `/api/admin/virtual-keys/${minted.body.id}`)).body.revokedAt).toEqual(
      expect.any(String),
    );
    // Still theirs only: the other team's key was never touched.
    expect((await bootstrap('GET', `/virtual-keys/${fixtures.keyB}`)).body.revokedAt).toBeNull();
  });

  it("lets a project's lead reach that project and not the rest of its team", async () => {
    const lead = (people.get('custom-project') as PersonalCaller).key;
    expect(ids(await call(lead, 'GET', '/api/admin/budgets'))).toEqual([fixtures.budgetProjectA]);
    expect(
      (await call(lead, 'PATCH', `/api/admin/budgets/${fixtures.budgetTeamA}`, { limitUsd: 2 })).status,
    ).toBe(404);
    expect(
      (await call(lead, 'PATCH', `/api/admin/budgets/${fixtures.budgetProjectA}`, { limitUsd: 2 })).status,
    ).toBe(200);
    const newBudget = { limitUsd: 5, window: 'day', action: 'alert' };
    expect(
      (
        await call(lead, 'POST', '/api/admin/budgets', {
          ...newBudget,
          scope: 'team',
          scopeId: fixtures.teamA,
        })
      ).status,
    ).toBe(403);
  });

  it('lets an admin token limited to budgets:manage on one team change that budget and nothing else', async () => {
    const token = (
      await created('POST', '/tokens', {
        name: 'alpha budgets',
        permissions: ['budgets:manage'],
        scope: { kind: 'team', id: fixtures.teamA },
      })
    ).token;
    const changed = await call(token, 'PATCH', `/api/admin/budgets/${fixtures.budgetTeamA}`, {
      limitUsd: 42,
    });
    expect(changed.status).toBe(200);
    expect(changed.body.limitUsd).toBe(42);
    expect((await bootstrap('GET', `/budgets/${fixtures.budgetTeamA}`)).body.limitUsd).toBe(42);

    expect(
      (await call(token, 'PATCH', `/api/admin/budgets/${fixtures.budgetTeamB}`, { limitUsd: 1 })).status,
    ).toBe(404);
    expect(
      (await call(token, 'PATCH', `/api/admin/budgets/${fixtures.budgetOrganization}`, { limitUsd: 1 }))
        .status,
    ).toBe(404);
    expect((await call(token, 'GET', '/api/admin/budgets')).status).toBe(403); // budgets:view it was not given
    expect((await call(token, 'DELETE', `/api/admin/virtual-keys/${fixtures.keyA}`)).status).toBe(403);
    expect((await call(token, 'POST', '/api/admin/providers', { name: 'x', type: 'openai' })).status).toBe(
      403,
    );
    expect((await call(token, 'GET', '/api/admin/organization')).status).toBe(403);
    expect((await bootstrap('GET', `/budgets/${fixtures.budgetTeamB}`)).body.limitUsd).toBe(50);
  });

  it('refuses to hand out more than the caller holds there', async () => {
    const lead = (people.get('custom-team') as PersonalCaller).key;
    const admin = (people.get('admin') as PersonalCaller).key;
    // A team lead holds no roles:manage or adminTokens:manage at all.
    expect(
      (await call(lead, 'POST', '/api/admin/tokens', { name: 'x', permissions: ['budgets:manage'] })).status,
    ).toBe(403);
    // An admin cannot make someone an owner (featureFlags:manage is the owner's alone).
    const grab = await call(admin, 'POST', '/api/admin/role-bindings', {
      role: 'owner',
      subject: { kind: 'user', id: (people.get('member') as PersonalCaller).userId },
    });
    expect(grab.status).toBe(403);
    expect(grab.body.error.message).toContain('featureFlags:manage');
    // Nor write it into a custom role they could then hold,
    const wide = await call(admin, 'POST', '/api/admin/roles', {
      name: 'almost owner',
      permissions: ['featureFlags:manage'],
    });
    expect(wide.status).toBe(403);
    const narrow = await call(admin, 'POST', '/api/admin/roles', {
      name: 'narrow',
      permissions: ['usage:view'],
    });
    expect(narrow.status).toBe(201);
    const widened = await call(admin, 'PATCH', `/api/admin/roles/${narrow.body.id}`, {
      permissions: ['usage:view', 'featureFlags:manage'],
    });
    expect(widened.status).toBe(403);
    // nor take a role away that is more than theirs: an admin cannot demote the owner.
    const ownerBinding = (await bootstrap('GET', '/role-bindings')).body.data.find(
      (binding: Json) =>
        binding.role === 'owner' && binding.subject.id === (people.get('owner') as PersonalCaller).userId,
    );
    expect((await call(admin, 'DELETE', `/api/admin/role-bindings/${ownerBinding.id}`)).status).toBe(403);
    expect(
      (await call((people.get('owner') as PersonalCaller).key, 'GET', '/api/admin/organization')).status,
    ).toBe(200);
  });
});

describe('/api/me, for everyone signed in', () => {
  const ME_ROUTES = [
    'GET /api/me',
    'GET /api/me/keys',
    'GET /api/me/devices',
    'GET /api/me/usage',
    'GET /api/me/requests',
    'GET /api/me/status',
  ];

  for (const testCase of cases()) {
    it(`answers ${testCase.name} about themselves, whatever their role`, async () => {
      const person = people.get(testCase.name) as PersonalCaller;
      for (const route of ME_ROUTES) {
        const [method = 'GET', path = ''] = route.split(' ');
        expect((await call(person.key, method, path)).status, route).toBe(200);
      }
      const me = await call(person.key, 'GET', '/api/me');
      expect(me.body.user.id).toBe(person.userId);
      expect(new Set(me.body.permissions)).toEqual(testCase.everywhere);
      expect((await call(person.key, 'GET', '/api/me/keys')).body.data.map((key: Json) => key.id)).toEqual([
        person.keyId,
      ]);
    });
  }

  it("never reaches another person's keys or devices", async () => {
    const member = people.get('member') as PersonalCaller;
    const owner = people.get('owner') as PersonalCaller;
    expect((await call(member.key, 'DELETE', `/api/me/keys/${owner.keyId}`)).status).toBe(404);
    expect((await call(member.key, 'DELETE', `/api/me/devices/${owner.keyId}`)).status).toBe(404);
    expect((await call(owner.key, 'GET', '/api/me/keys')).body.data[0].revokedAt).toBeNull();
  });

  it('is for people: no caller, or an admin token, gets 401', async () => {
    expect((await call(undefined, 'GET', '/api/me')).status).toBe(401);
    expect((await call(ADMIN_TOKEN, 'GET', '/api/me')).status).toBe(401);
    const token = (await created('POST', '/tokens', { name: 'robot', role: 'owner' })).token;
    expect((await call(token, 'GET', '/api/me/keys')).status).toBe(401);
  });
});

describe('organisations', () => {
  /** Every object of a second organisation, made with its first owner's token. */
  async function secondOrganization() {
    const made = await created('POST', '/organizations', { name: 'Globex', slug: 'globex' });
    const owner = made.ownerToken.token as string;
    const make = async (path: string, body: unknown) => {
      const answer = await call(owner, 'POST', `/api/admin${path}`, body);
      expect(answer.status, `${path}: ${JSON.stringify(answer.body)}`).toBe(201);
      return answer.body.id as string;
    };
    const provider = await make('/providers', { name: 'globex openai', type: 'openai', apiKey: 'sk-globex' });
    const project = await make('/projects', { name: 'globex app' });
    const team = await make('/teams', { name: 'globex team' });
    const objects: Record<string, string> = {
      providers: provider,
      'routing-policies': await make('/routing-policies', { name: 'globex policy', providers: [provider] }),
      projects: project,
      'virtual-keys': await make('/virtual-keys', { projectId: project, name: 'globex key' }),
      budgets: await make('/budgets', {
        scope: 'project',
        scopeId: project,
        limitUsd: 9,
        window: 'month',
        action: 'block',
      }),
      'rate-limits': await make('/rate-limits', {
        scope: 'project',
        scopeId: project,
        requestsPerMinute: 10,
      }),
      teams: team,
      roles: await make('/roles', { name: 'globex role', permissions: ['usage:view'] }),
      'role-bindings': await make('/role-bindings', { role: 'viewer', subject: { kind: 'team', id: team } }),
      'scim-tokens': await make('/scim-tokens', { name: 'globex scim' }),
      tokens: await make('/tokens', { name: 'globex robot', role: 'viewer' }),
    };
    return { id: made.id as string, owner, objects };
  }

  it('answers 404 for every object of another organisation, on every route that names one', async () => {
    const globex = await secondOrganization();
    const owner = people.get('owner') as PersonalCaller;
    const idRoutes = Object.keys(ADMIN_ROUTE_PERMISSIONS).filter((route) => route.includes(':id'));
    // A change that would be valid on an object of one's own, so only the wall can refuse it.
    const validChange: Record<string, unknown> = {
      providers: { name: 'renamed' },
      'routing-policies': { name: 'renamed' },
      projects: { name: 'renamed' },
      'virtual-keys': { name: 'renamed' },
      budgets: { limitUsd: 1 },
      'rate-limits': { requestsPerMinute: 1 },
      teams: { name: 'renamed' },
      roles: { name: 'renamed' },
    };
    let checked = 0;
    for (const route of idRoutes) {
      const [method = 'GET', path = ''] = route.split(' ');
      const collection = path.split('/')[1] ?? '';
      const id = globex.objects[collection];
      if (id === undefined) continue;
      for (const caller of [owner.key, ADMIN_TOKEN]) {
        const answer = await call(
          caller,
          method,
          `/api/admin${path.replace(':id', id)}`,
          method === 'PATCH' ? validChange[collection] : undefined,
        );
        expect(answer.status, `${route} on ${id}`).toBe(404);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2 * 20);
    // Lists do not show them either.
    for (const collection of [
      'providers',
      'projects',
      'virtual-keys',
      'budgets',
      'teams',
      'roles',
      'tokens',
    ]) {
      const listed = await call(owner.key, 'GET', `/api/admin/${collection}`);
      expect(JSON.stringify(listed.body), collection).not.toContain(globex.objects[collection]);
    }
    // Nor can a caller step into it by naming it.
    const stepIn = await call(owner.key, 'GET', '/api/admin/organization', undefined, {
      'x-gatehouse-organization': globex.id,
    });
    expect(stepIn.status).toBe(404);
    expect(stepIn.body.error.code).toBe('organization_not_found');
    // And the other way round: Globex's owner sees Globex, not the default organisation.
    expect((await call(globex.owner, 'GET', '/api/admin/organization')).body.id).toBe(globex.id);
    expect((await call(globex.owner, 'GET', `/api/admin/budgets/${fixtures.budgetTeamA}`)).status).toBe(404);
  });

  it('lets only the deployment operator create organisations', async () => {
    const owner = people.get('owner') as PersonalCaller;
    expect(
      (await call(owner.key, 'POST', '/api/admin/organizations', { name: 'Mine', slug: 'mine' })).status,
    ).toBe(403);
    expect((await bootstrap('POST', '/organizations', { name: 'Globex again', slug: 'globex' })).status).toBe(
      409,
    );
  });
});
