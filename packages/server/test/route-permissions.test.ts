import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Access } from '../src/control/access.js';
import { enforceRoutePermissions } from '../src/control/admin/auth.js';
import { ADMIN_ROUTE_PERMISSIONS } from '../src/control/admin/route-permissions.js';
import {
  BUILT_IN_ROLE_PERMISSIONS,
  type BuiltInRole,
  PERMISSIONS,
  type Permission,
} from '../src/control/permissions.js';
import { ADMIN_TOKEN, startTestGatehouse, type TestGatehouse } from './support/harness.js';

/**
 * Every admin route declares its permission in one table, the declaration is checked before the
 * handler, and a route without one stops the start. The real admin API is compared with the
 * table through its OpenAPI document; the check itself runs in a small app with chosen roles.
 */

let server: TestGatehouse;
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is walked generically.
let openapi: any;

beforeAll(async () => {
  server = await startTestGatehouse();
  openapi = await (await fetch(`${server.url}/api/openapi.json`)).json();
});
afterAll(async () => {
  await server?.close();
});

/** `METHOD /path` of every documented admin operation, paths in Fastify's `:param` form. */
function documentedAdminRoutes(): string[] {
  const routes: string[] = [];
  for (const [path, item] of Object.entries<Record<string, unknown>>(openapi.paths)) {
    if (!path.startsWith('/api/admin/')) continue;
    for (const method of Object.keys(item)) {
      if (!['get', 'put', 'post', 'patch', 'delete'].includes(method)) continue;
      routes.push(`${method.toUpperCase()} ${path.slice('/api/admin'.length).replace(/\{(\w+)\}/g, ':$1')}`);
    }
  }
  return routes.sort();
}

/** A small app whose caller holds `role`, with the given routes under `/api/admin`. */
async function appWithRole(role: BuiltInRole, routes: [string, string][]): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request) => {
        const access = new Access([
          { permissions: BUILT_IN_ROLE_PERMISSIONS[role], scope: 'organization', scopeId: null },
        ]);
        request.admin = {
          organizationId: 'org',
          actor: { kind: 'bootstrap' },
          access,
          permissions: access.everywhere,
        };
      });
      enforceRoutePermissions(admin);
      for (const [method, url] of routes) admin.route({ method, url, handler: async () => ({ ok: true }) });
    },
    { prefix: '/api/admin' },
  );
  await app.ready();
  return app;
}

describe('the admin route table', () => {
  it('declares exactly the routes the admin API serves, each with a permission from the catalogue', () => {
    const declared = Object.keys(ADMIN_ROUTE_PERMISSIONS).sort();
    expect(documentedAdminRoutes()).toEqual(declared);
    for (const permission of Object.values(ADMIN_ROUTE_PERMISSIONS)) {
      expect(PERMISSIONS).toContain(permission);
    }
  });

  it('lets the bootstrap admin token (an owner) through every route it declares', async () => {
    const response = await fetch(`${server.url}/api/admin/organization`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(200);
  });

  it('refuses to start with an admin route that declares no permission, naming it', async () => {
    await expect(appWithRole('owner', [['POST', '/reports']])).rejects.toThrow(
      /admin route POST \/api\/admin\/reports declares no permission/,
    );
  });
});

describe('the check before each admin handler', () => {
  const routes = Object.keys(ADMIN_ROUTE_PERMISSIONS).map((key): [string, string] => {
    const [method = '', url = ''] = key.split(' ');
    return [method, url];
  });

  for (const role of ['owner', 'admin', 'viewer', 'billing', 'member'] as const) {
    it(`answers ${role} on every admin route as the catalogue says: 403 without the permission`, async () => {
      const app = await appWithRole(role, routes);
      try {
        for (const [method, url] of routes) {
          const needed = (ADMIN_ROUTE_PERMISSIONS as Record<string, Permission>)[`${method} ${url}`];
          const response = await app.inject({
            method: method as 'GET',
            url: `/api/admin${url.replace(/:\w+/g, 'x')}`,
          });
          const allowed = needed !== undefined && BUILT_IN_ROLE_PERMISSIONS[role].has(needed);
          expect(response.statusCode, `${role} ${method} ${url}`).toBe(allowed ? 200 : 403);
          if (!allowed) expect(response.json().error.message).toContain(needed);
        }
      } finally {
        await app.close();
      }
    });
  }

  it('gives members no admin permission, billing budgets but not providers, admins all but the release flags', () => {
    const member = BUILT_IN_ROLE_PERMISSIONS.member;
    expect([...member]).toEqual(['gateway:use']);
    expect(BUILT_IN_ROLE_PERMISSIONS.billing.has('budgets:manage')).toBe(true);
    expect(BUILT_IN_ROLE_PERMISSIONS.billing.has('providers:view')).toBe(false);
    expect(BUILT_IN_ROLE_PERMISSIONS.viewer.has('providers:manage')).toBe(false);
    expect(BUILT_IN_ROLE_PERMISSIONS.admin.has('featureFlags:manage')).toBe(false);
    expect(BUILT_IN_ROLE_PERMISSIONS.owner.has('featureFlags:manage')).toBe(true);
    expect(BUILT_IN_ROLE_PERMISSIONS.admin.has('providers:manage')).toBe(true);
  });
});
