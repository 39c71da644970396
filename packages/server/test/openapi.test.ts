import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from './mock-upstream/mock-upstream.js';
import {
  ADMIN_TOKEN,
  createPersonalCaller,
  startTestGatehouse,
  type TestGatehouse,
} from './support/harness.js';

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is walked generically.
type Json = any;

let mock: MockUpstream;
let server: TestGatehouse;
let doc: Json;

beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestGatehouse();
  const response = await fetch(`${server.url}/api/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  doc = await response.json();
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** `[method, path]` for every operation in the document, methods lower-case, paths as written. */
function documentedOperations(): Array<[string, string]> {
  const operations: Array<[string, string]> = [];
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const method of Object.keys(item))
      if (HTTP_METHODS.includes(method)) operations.push([method, path]);
  }
  return operations;
}

/** The admin API's operations (the rest are a person's own, under /api/me). */
function adminOperations(): Array<[string, string]> {
  return documentedOperations().filter(([, path]) => path.startsWith('/api/admin/'));
}

const isDocumentedPath = (path: string) => path.startsWith('/api/admin/') || /^\/api\/me(\/|$)/.test(path);

/**
 * The routes the server registered, read from Fastify's route tree (`printRoutes`), as
 * `[method, path]` with `:param` written `{param}`. HEAD is left out: Fastify adds it to every GET.
 */
function registeredRoutes(): Array<[string, string]> {
  const tree = server.gatehouse.app.printRoutes({ commonPrefix: false });
  const routes: Array<[string, string]> = [];
  const parents: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line.replace(/\u00a0/g, ' '));
    if (!match) continue;
    const depth = (match[1] as string).length / 4;
    const path = (parents[depth - 1] ?? '') + (match[2] as string);
    parents[depth] = path;
    parents.length = depth + 1;
    for (const method of (match[3] ?? '').split(',').map((name) => name.trim())) {
      if (method !== '' && method !== 'HEAD') {
        routes.push([method.toLowerCase(), path.replace(/:([A-Za-z_]+)/g, '{$1}')]);
      }
    }
  }
  return routes;
}

/** `METHOD /path`; `/api/me/` and `/api/me` are one route (Fastify serves a prefix's root at both). */
function key([method, path]: [string, string]): string {
  return `${method.toUpperCase()} ${path.length > 1 ? path.replace(/\/$/, '') : path}`;
}

/** Every JSON value in the document with the JSON pointer it is at. */
function* walk(value: Json, pointer = ''): Generator<[Json, string]> {
  yield [value, pointer];
  if (value !== null && typeof value === 'object') {
    for (const [name, child] of Object.entries(value)) yield* walk(child, `${pointer}/${name}`);
  }
}

function resolvePointer(ref: string): Json {
  if (!ref.startsWith('#/')) return undefined;
  let node: Json = doc;
  for (const part of ref.slice(2).split('/')) {
    node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

function requestSchema(path: string): Json {
  const schema = doc.paths[path]?.post?.requestBody?.content?.['application/json']?.schema;
  return schema?.$ref ? resolvePointer(schema.$ref) : schema;
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${server.url}${path}`, {
    method: method.toUpperCase(),
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

describe('the OpenAPI document', () => {
  it('is an OpenAPI 3 document with info, paths and a bearer security scheme', () => {
    expect(doc.openapi).toMatch(/^3\.[01]\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
    expect(doc.components.securitySchemes.adminToken).toEqual({ type: 'http', scheme: 'bearer' });
    for (const [method, path] of documentedOperations()) {
      const operation = doc.paths[path][method];
      expect(Object.keys(operation.responses ?? {}).length, key([method, path])).toBeGreaterThan(0);
      // A person's own routes take their session or personal key; the admin API an admin caller.
      expect(operation.security, key([method, path])).toEqual(
        path.startsWith('/api/me') ? [{ personalKey: [] }, { session: [] }] : [{ adminToken: [] }],
      );
    }
  });

  it('is well formed: every $ref resolves and every path parameter is declared', () => {
    const refs = [...walk(doc)].filter(([value]) => typeof value?.$ref === 'string');
    expect(refs.length).toBeGreaterThan(0);
    for (const [value, pointer] of refs) expect(resolvePointer(value.$ref), pointer).toBeDefined();

    for (const [method, path] of documentedOperations()) {
      const declared = (doc.paths[path][method].parameters ?? [])
        .filter((parameter: Json) => parameter.in === 'path')
        .map((parameter: Json) => {
          expect(parameter.required, `${key([method, path])} ${parameter.name}`).toBe(true);
          return parameter.name;
        });
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      expect(declared.sort(), key([method, path])).toEqual(templated.sort());
    }
  });

  it('uses only schema keywords its declared OpenAPI version allows', () => {
    // OpenAPI 3.0 schemas take `type` as a single string (with `nullable: true`); a list of types
    // such as ["string","null"] is OpenAPI 3.1 only, and 3.0 tooling rejects the document.
    if (!String(doc.openapi).startsWith('3.0')) return;
    const typeLists = [...walk(doc)]
      .filter(([value]) => Array.isArray(value?.type))
      .map(([, pointer]) => pointer);
    expect(typeLists).toEqual([]);
  });

  it('lists exactly the admin routes the server registers, and no others', () => {
    const registered = registeredRoutes();
    // The parse found the tree, not an empty list that would make the comparison vacuous.
    expect(registered.map(key)).toEqual(
      expect.arrayContaining([
        'GET /healthz',
        'POST /api/admin/providers',
        'DELETE /api/admin/virtual-keys/{id}',
      ]),
    );
    const registeredApi = [...new Set(registered.filter(([, path]) => isDocumentedPath(path)).map(key))];
    expect(documentedOperations().map(key).sort()).toEqual(registeredApi.sort());
  });

  it('leaves the gateway, health and document routes out', () => {
    for (const path of Object.keys(doc.paths)) expect(isDocumentedPath(path), path).toBe(true);
    const documented = documentedOperations().map(key);
    const elsewhere = registeredRoutes().filter(([, path]) => !isDocumentedPath(path));
    expect(elsewhere.map(key)).toEqual(
      expect.arrayContaining(['POST /api/v1/chat/completions', 'POST /v1/messages', 'GET /api/v1/models']),
    );
    for (const route of elsewhere) expect(documented).not.toContain(key(route));
  });

  it('answers every documented operation with a status the document lists for it', async () => {
    const provider = await admin('post', '/api/admin/providers', { name: 'probe', type: 'openai' });
    const spare = await admin('post', '/api/admin/providers', { name: 'spare', type: 'openai' });
    const policy = await admin('post', '/api/admin/routing-policies', {
      name: 'probe',
      providers: [provider.json.id],
    });
    const project = await admin('post', '/api/admin/projects', { name: 'probe' });
    const virtualKey = await admin('post', '/api/admin/virtual-keys', {
      projectId: project.json.id,
      name: 'probe',
    });
    const budget = await admin('post', '/api/admin/budgets', {
      scope: 'project',
      scopeId: project.json.id,
      limitUsd: 5,
      window: 'month',
      action: 'block',
    });
    const rateLimit = await admin('post', '/api/admin/rate-limits', {
      scope: 'project',
      scopeId: project.json.id,
      requestsPerMinute: 60,
    });
    const person = await createPersonalCaller(server, 'probe');
    const scimToken = await admin('post', '/api/admin/scim-tokens', { name: 'probe' });
    const adminToken = await admin('post', '/api/admin/tokens', { name: 'probe', role: 'viewer' });
    const team = await admin('post', '/api/admin/teams', { name: 'probe team' });
    const role = await admin('post', '/api/admin/roles', { name: 'probe', permissions: ['usage:view'] });
    // A built-in role: deleting the custom role above would take its bindings with it.
    const binding = await admin('post', '/api/admin/role-bindings', {
      role: 'viewer',
      subject: { kind: 'team', id: team.json.id },
    });
    const idFor: Record<string, string> = {
      roles: role.json.id,
      'role-bindings': binding.json.id,
      teams: team.json.id,
      'scim-tokens': scimToken.json.id,
      tokens: adminToken.json.id,
      users: person.userId,
      budgets: budget.json.id,
      'rate-limits': rateLimit.json.id,
      providers: spare.json.id,
      'routing-policies': policy.json.id,
      projects: project.json.id,
      'virtual-keys': virtualKey.json.id,
    };

    // Reads first, deletes last, so each id still exists when it is read.
    const order = ['get', 'post', 'patch', 'delete'];
    const operations = adminOperations().sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
    expect(operations).toHaveLength(67);
    for (const [method, path] of operations) {
      const collection = path.split('/')[3] as string;
      const url = path.replace('{id}', idFor[collection] ?? 'missing');
      // Nothing in the body or query: the route must exist and refuse it in a documented way.
      const answer = await admin(method, url, method === 'post' || method === 'patch' ? {} : undefined);
      const documented = Object.keys(doc.paths[path][method].responses);
      expect(answer.status, key([method, path])).not.toBe(404);
      expect(documented, `${key([method, path])} answered ${answer.status}`).toContain(String(answer.status));
    }
  });
});

describe('the documented request shapes match what validation enforces', () => {
  it('documents name and type as the required fields of POST /providers', () => {
    expect(requestSchema('/api/admin/providers').required.sort()).toEqual(['name', 'type']);
  });

  it('refuses each documented required field when left out, and needs nothing else', async () => {
    const provider = await admin('post', '/api/admin/providers', { name: 'shapes', type: 'openai' });
    const policy = await admin('post', '/api/admin/routing-policies', {
      name: 'shapes',
      providers: [provider.json.id],
    });
    const project = await admin('post', '/api/admin/projects', { name: 'shapes' });
    // A full valid body per creation route: every documented field, required or not.
    const fullBodies: Record<string, Record<string, unknown>> = {
      '/api/admin/providers': {
        name: 'full',
        type: 'openai',
        baseUrl: 'https://api.example.com/v1',
        apiKey: 'sk-full',
        models: ['gpt-4o-mini'],
        forwardIdentity: true,
        priceOverrides: { 'gpt-4o-mini': { inputPerMTok: 0.1, outputPerMTok: 0.4 } },
        defaultPrice: { inputPerMTok: 1, outputPerMTok: 2 },
        // Other types' fields are accepted on any type; each adapter reads only its own.
        apiVersion: '2024-10-21',
        deployments: { 'gpt-4o-mini': 'mini-deployment' },
        region: 'us-east-1',
        accessKeyId: 'AKIAFULL',
        secretAccessKey: 'full-secret',
        sessionToken: 'full-session',
        projectId: 'full-project',
        location: 'us-east5',
        serviceAccountJson: JSON.stringify({
          type: 'service_account',
          client_email: 'full@example.iam.gserviceaccount.com',
          private_key: 'not checked until used',
        }),
      },
      '/api/admin/routing-policies': {
        name: 'full',
        providers: [provider.json.id],
        modelAliases: { fast: 'gpt-4o-mini' },
        allowedModels: ['gpt-*'],
        deniedModels: ['gpt-4o'],
        isDefault: false,
      },
      '/api/admin/projects': { name: 'full', routingPolicyId: policy.json.id },
      '/api/admin/virtual-keys': { projectId: project.json.id, name: 'full', expiresInSeconds: 60 },
      '/api/admin/budgets': {
        name: 'full',
        scope: 'project',
        scopeId: project.json.id,
        limitUsd: 10,
        window: 'week',
        action: 'alert',
        providerId: provider.json.id,
        model: 'gpt-4o-mini',
      },
      '/api/admin/rate-limits': {
        scope: 'project',
        scopeId: project.json.id,
        requestsPerMinute: 60,
        tokensPerMinute: 100_000,
      },
      '/api/admin/teams': { name: 'full' },
      '/api/admin/scim-tokens': { name: 'full' },
      '/api/admin/tokens': {
        name: 'full',
        role: 'billing',
        permissions: ['usage:view'],
        scope: { kind: 'project', id: project.json.id },
        expiresInSeconds: 3600,
      },
      '/api/admin/roles': { name: 'full', description: 'every field', permissions: ['usage:view'] },
      '/api/admin/role-bindings': {
        role: 'viewer',
        subject: { kind: 'idpGroup', id: 'full' },
        scope: { kind: 'project', id: project.json.id },
      },
      '/api/admin/organizations': { name: 'Full', slug: 'full' },
    };
    // What a body of only the required fields needs besides: a rate limit needs one of its two
    // limits (a refinement the document cannot state), and a scope holds one, so another scope.
    const minimalExtras: Record<string, Record<string, unknown>> = {
      '/api/admin/rate-limits': { scope: 'provider', scopeId: provider.json.id, requestsPerMinute: 1 },
      // An admin token carries permissions, a role or both (a refinement the document cannot state).
      '/api/admin/tokens': { role: 'viewer' },
      // Organisations are told apart by slug.
      '/api/admin/organizations': { slug: 'only-required' },
    };
    // Creation calls: the POSTs that take a body (revoke-access, an action, takes none).
    const posts = adminOperations().filter(
      ([method, path]) => method === 'post' && doc.paths[path][method].requestBody !== undefined,
    );
    expect(posts.map(([, path]) => path).sort()).toEqual(Object.keys(fullBodies).sort());

    for (const [, path] of posts) {
      const schema = requestSchema(path);
      const full = fullBodies[path] as Record<string, unknown>;
      expect(Object.keys(full).sort(), `${path} documents these properties`).toEqual(
        Object.keys(schema.properties).sort(),
      );
      const required: string[] = schema.required ?? [];
      expect(required.length, path).toBeGreaterThan(0);

      expect((await admin('post', path, full)).status, `${path} full body`).toBe(201);
      const onlyRequired: Record<string, unknown> = {
        ...Object.fromEntries(required.map((field) => [field, full[field]])),
        ...minimalExtras[path],
      };
      // Providers, policies, projects and teams are told apart by name: a second 'full' is a 409.
      if (typeof onlyRequired.name === 'string') onlyRequired.name = 'only the required fields';
      expect((await admin('post', path, onlyRequired)).status, `${path} only the required fields`).toBe(201);
      for (const field of required) {
        const { [field]: _left, ...rest } = full;
        const refused = await admin('post', path, rest);
        expect(refused.status, `${path} without ${field}`).toBe(400);
        expect(refused.json.error.message, `${path} without ${field}`).toContain(field);
      }
      if (schema.additionalProperties === false) {
        const extra = await admin('post', path, { ...full, undocumented: true });
        expect(extra.status, `${path} with an undocumented field`).toBe(400);
      }
    }
  });

  it('documents the query parameters of GET /usage, and validation enforces them', async () => {
    const parameters: Json[] = doc.paths['/api/admin/usage'].get.parameters;
    const query = parameters.filter((parameter) => parameter.in === 'query');
    expect(query.filter((parameter) => parameter.required)).toEqual([]);
    expect(query.map((parameter) => parameter.name).sort()).toEqual([
      'from',
      'groupBy',
      'interval',
      'keyId',
      'model',
      'principalId',
      'projectId',
      'providerId',
      'status',
      'teamId',
      'to',
      'tool',
    ]);
    const groupBy = query.find((parameter) => parameter.name === 'groupBy');
    const values: string[] = groupBy.schema.enum;
    expect(values.sort()).toEqual(['key', 'model', 'principal', 'project', 'provider', 'team', 'tool']);
    for (const value of values)
      expect((await admin('get', `/api/admin/usage?groupBy=${value}`)).status).toBe(200);
    // Without groupBy, rows are per model.
    const byDefault = await admin('get', '/api/admin/usage');
    expect(byDefault.status).toBe(200);
    expect(byDefault.json.groupBy).toBe('model');
    const wrong = await admin('get', '/api/admin/usage?status=maybe');
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.message).toContain('status');
  });

  it('documents every field the creation responses carry', async () => {
    const provider = await admin('post', '/api/admin/providers', { name: 'fields', type: 'openai' });
    const created = {
      '/api/admin/providers': provider,
      '/api/admin/routing-policies': await admin('post', '/api/admin/routing-policies', {
        name: 'fields',
        providers: [provider.json.id],
      }),
      '/api/admin/projects': await admin('post', '/api/admin/projects', { name: 'fields' }),
    };
    const project = created['/api/admin/projects'];
    const keyAnswer = await admin('post', '/api/admin/virtual-keys', {
      projectId: project.json.id,
      name: 'f',
    });
    const all = { ...created, '/api/admin/virtual-keys': keyAnswer };
    for (const [path, answer] of Object.entries(all)) {
      expect(answer.status, path).toBe(201);
      const reference = doc.paths[path].post.responses['201'].content['application/json'].schema;
      const schema = reference.$ref ? resolvePointer(reference.$ref) : reference;
      expect(Object.keys(answer.json).sort(), path).toEqual(Object.keys(schema.properties).sort());
      for (const field of schema.required) expect(answer.json, `${path} ${field}`).toHaveProperty(field);
    }
  });
});
