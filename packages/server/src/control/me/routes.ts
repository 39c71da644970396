import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Authenticator, budgetScopesOf } from '../../gateway/index.js';
import { grantsOfUser } from '../../store/cli-auth.js';
import type { Database } from '../../store/database.js';
import { getOrganization } from '../../store/organizations.js';
import type { BudgetScope } from '../../store/schema.js';
import type { UserRow } from '../../store/users.js';
import { keysOfUser, revokeVirtualKey } from '../../store/virtual-keys.js';
import {
  CSRF_FAILED,
  namedOtherOrganization,
  type PersonCaller,
  personCaller,
  personPrincipal,
} from '../admin/auth.js';
import { grantScopeView } from '../admin/grant-scope.js';
import { adminError, notFound } from '../admin/replies.js';
import { idParams, listOf } from '../admin/schemas.js';
import { type AuditTrail, personActor } from '../audit/trail.js';
import { type SelfStatusOptions, selfStatus } from '../cli-auth/status.js';
import { effectiveFlags, type FeatureFlagName, featureFlagNames } from '../feature-flags.js';
import { findPersonalProject, revokeGrant } from '../personal-access.js';
import type { WebSessions } from '../sso/web-sessions.js';
import { selfUsageRoutes } from './usage-routes.js';

export interface SelfServiceOptions {
  db: Database;
  sessions: WebSessions | undefined;
  authenticator: Authenticator;
  status: Omit<SelfStatusOptions, 'authenticator' | 'now'>;
  /** A revoked key must be refused by every gateway at once. */
  onKeysChange(): void;
  /** A person revoking their own key or device is recorded here. */
  audit: AuditTrail;
  /** Release flags the deployment forces on (FEATURE_FLAG_FORCE_ENABLE). */
  forcedFeatureFlags: ReadonlySet<FeatureFlagName>;
  now(): Date;
}

declare module 'fastify' {
  interface FastifyRequest {
    person: PersonCaller;
  }
}

const timestamp = z.string().describe('ISO 8601 timestamp');
const LANDINGS = ['governance', 'spend', 'me', 'usage'] as const;

const meSchema = z
  .object({
    user: z.object({
      id: z.string(),
      email: z.string(),
      name: z.string().nullable(),
      teamId: z.string().nullable(),
    }),
    organization: z.object({ id: z.string() }),
    organizations: z
      .array(z.object({ id: z.string(), name: z.string(), current: z.boolean() }))
      .describe("The organisations this browser session has signed in to (a key's caller: its own)"),
    permissions: z.array(z.string()).describe('What they may do across the organisation'),
    grants: z
      .array(
        z.object({
          permissions: z.array(z.string()),
          scope: z.object({ kind: z.string(), id: z.string().optional() }),
        }),
      )
      .describe('Every grant, with where it applies'),
    featureFlags: z
      .object(
        Object.fromEntries(featureFlagNames.map((name) => [name, z.boolean()])) as Record<
          FeatureFlagName,
          z.ZodBoolean
        >,
      )
      .describe(
        "Each release flag's effective value in the organisation: the web app hides the pages of those off",
      ),
    landing: z
      .enum(LANDINGS)
      .describe(
        'The home page the web app opens for this person: governance (governance:view or providers:manage), spend (budgets:manage and usage:view without providers:view), me (a live CLI device or personal key), else usage',
      ),
  })
  .meta({ id: 'Me' });

/**
 * Which page the web app opens first, by what the person does: who governs sees the
 * organisation, who pays sees spend, who codes sees their own keys and devices. The browser may
 * override it (a preference kept there); this is the default.
 */
export function landingFor(
  permissions: ReadonlySet<string>,
  hasPersonalAccess: boolean,
  /** Off when the organisation's governance flag hides /governance and /spend. */
  governancePagesOn = true,
): (typeof LANDINGS)[number] {
  if (!governancePagesOn) return hasPersonalAccess ? 'me' : 'usage';
  if (permissions.has('governance:view') || permissions.has('providers:manage')) return 'governance';
  if (
    permissions.has('budgets:manage') &&
    permissions.has('usage:view') &&
    !permissions.has('providers:view')
  ) {
    return 'spend';
  }
  return hasPersonalAccess ? 'me' : 'usage';
}

const myKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.string(),
    hint: z.string(),
    deviceId: z.string().nullable().describe('The CLI sign-in it was minted for'),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: 'MyKey' });

const myDeviceSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    clientId: z.string(),
    createdAt: timestamp,
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: 'MyDevice' });

const errors = { 400: z.object({ error: z.object({ code: z.string(), message: z.string() }) }) };
const security: Record<string, string[]>[] = [{ personalKey: [] }, { session: [] }];

/**
 * `/api/me`: what any signed-in person may see and do about themselves, with no admin role —
 * their keys and devices (and revoking them), their usage, the budgets that limit them. The
 * caller is their browser session or the personal key `gatehouse login` gave the CLI; every
 * query takes the person from the caller, so nobody reaches anyone else's.
 */
export async function selfServiceRoutes(parent: FastifyInstance, options: SelfServiceOptions): Promise<void> {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db } = options;

  app.addHook('onRequest', async (request, reply) => {
    const person = await personCaller(request, options);
    if (person === 'csrf_failed') {
      return reply.code(CSRF_FAILED.status).send(adminError(CSRF_FAILED.code, CSRF_FAILED.message));
    }
    if (!person) {
      return reply
        .code(401)
        .send(adminError('unauthorized', 'Sign in first (gatehouse login, or in the browser).'));
    }
    const elsewhere = namedOtherOrganization(request, person.user.organizationId);
    if (elsewhere) return reply.code(404).send(elsewhere);
    request.person = person;
  });

  app.get(
    '/',
    {
      schema: {
        tags: ['me'],
        summary: 'Who I am, where, and what I may do',
        security,
        response: { 200: meSchema },
      },
    },
    async (request) => {
      const { user } = request.person;
      const principal = await personPrincipal(db, user);
      const organizations =
        request.person.via === 'session' && options.sessions
          ? await options.sessions.organizations(request)
          : [
              {
                id: user.organizationId,
                name: (await getOrganization(db, user.organizationId))?.name ?? user.organizationId,
                current: true,
              },
            ];
      const now = options.now();
      const [keys, devices, organization] = await Promise.all([
        keysOfUser(db, user.organizationId, user.id),
        grantsOfUser(db, user.organizationId, user.id),
        getOrganization(db, user.organizationId),
      ]);
      const flags = effectiveFlags(organization ?? { featureFlags: {} }, options.forcedFeatureFlags);
      const live = (row: { revokedAt: Date | null; expiresAt?: Date | null }) =>
        row.revokedAt === null && (row.expiresAt == null || row.expiresAt > now);
      const hasPersonalAccess =
        devices.some(live) || keys.some((key) => key.kind === 'personal' && live(key));
      return {
        user: { id: user.id, email: user.email, name: user.name, teamId: user.teamId },
        organization: { id: user.organizationId },
        organizations,
        permissions: [...principal.permissions],
        grants: principal.access.grants.map((grant) => ({
          permissions: [...grant.permissions],
          scope: grantScopeView(grant.scope, grant.scopeId),
        })),
        featureFlags: Object.fromEntries(
          featureFlagNames.map((name) => [name, flags[name].enabled]),
        ) as Record<FeatureFlagName, boolean>,
        landing: landingFor(
          principal.permissions,
          hasPersonalAccess,
          flags.release_ui_ai_governance_enabled.enabled,
        ),
      };
    },
  );

  app.post(
    '/organization',
    {
      schema: {
        tags: ['me'],
        summary: 'Switch the browser session to another organisation it has signed in to',
        security,
        body: z.object({ organizationId: z.string().min(1).max(200) }).strict(),
        response: { 204: z.null(), ...errors, 404: errors[400] },
      },
    },
    async (request, reply) => {
      if (request.person.via !== 'session' || !options.sessions) {
        return reply
          .code(400)
          .send(adminError('not_a_session', 'A key belongs to one organisation; sign in there instead.'));
      }
      if (!(await options.sessions.switchTo(request, request.body.organizationId))) {
        return reply
          .code(404)
          .send(adminError('organization_not_found', 'Sign in to that organisation first.'));
      }
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/keys',
    {
      schema: {
        tags: ['me'],
        summary: 'My keys and their expiry',
        security,
        response: { 200: listOf(myKeySchema) },
      },
    },
    async (request) => {
      const { user } = request.person;
      return { data: (await keysOfUser(db, user.organizationId, user.id)).map(myKeyView) };
    },
  );
  app.delete(
    '/keys/:id',
    {
      schema: {
        tags: ['me'],
        summary: 'Revoke one of my keys; refused from its very next request',
        security,
        params: idParams,
        response: { 200: myKeySchema, ...errors, 404: errors[400] },
      },
    },
    async (request, reply) => {
      const { user } = request.person;
      const mine = (await keysOfUser(db, user.organizationId, user.id)).find(
        (key) => key.id === request.params.id,
      );
      if (!mine) return reply.code(404).send(notFound('key'));
      const revoked = await revokeVirtualKey(db, user.organizationId, mine.id, options.now());
      options.onKeysChange();
      await options.audit.record({
        organizationId: user.organizationId,
        actor: personActor(user),
        action: 'key.revoke',
        target: { type: 'virtual_key', id: mine.id },
        after: { reason: 'self_service', ...myKeyView(revoked ?? mine) },
        request,
      });
      return myKeyView(revoked ?? mine);
    },
  );

  app.get(
    '/devices',
    {
      schema: {
        tags: ['me'],
        summary: 'My CLI sign-ins',
        security,
        response: { 200: listOf(myDeviceSchema) },
      },
    },
    async (request) => {
      const { user } = request.person;
      return { data: (await grantsOfUser(db, user.organizationId, user.id)).map(myDeviceView) };
    },
  );
  app.delete(
    '/devices/:id',
    {
      schema: {
        tags: ['me'],
        summary: 'Sign one device out: its refresh token and every key minted for it stop working',
        security,
        params: idParams,
        response: { 204: z.null(), ...errors, 404: errors[400] },
      },
    },
    async (request, reply) => {
      const { user } = request.person;
      const mine = (await grantsOfUser(db, user.organizationId, user.id)).find(
        (grant) => grant.id === request.params.id,
      );
      if (!mine) return reply.code(404).send(notFound('device'));
      const revokedKeys = await revokeGrant(db, mine.id, options.now());
      options.onKeysChange();
      await options.audit.record({
        organizationId: user.organizationId,
        actor: personActor(user),
        action: 'key.revoke',
        target: { type: 'cli_grant', id: mine.id },
        after: { reason: 'self_service', userId: user.id, deviceName: mine.deviceName, revokedKeys },
        request,
      });
      return reply.code(204).send(null);
    },
  );

  selfUsageRoutes(app, { db, now: options.now });

  app.get(
    '/status',
    {
      schema: {
        tags: ['me'],
        summary: 'The budgets that limit me, and whether my providers answer',
        security,
      },
    },
    async (request) => {
      const statusOptions = { ...options.status, now: options.now };
      if (request.person.via === 'personalKey') {
        // The key the caller was identified by, resolved once: its policy and scopes.
        const identity = request.person.key;
        return selfStatus(statusOptions, {
          organizationId: identity.organizationId,
          budgetScopes: budgetScopesOf(identity),
          providers: identity.policy.providers,
        });
      }
      return selfStatus(statusOptions, {
        organizationId: request.person.user.organizationId,
        budgetScopes: await budgetScopesOfPerson(db, request.person.user),
        providers: [],
      });
    },
  );
}

/** For a browser session: what limits the person's personal keys (any key's own budget aside). */
async function budgetScopesOfPerson(db: Database, user: UserRow) {
  const scopes: { scope: BudgetScope; scopeId: string }[] = [
    { scope: 'org', scopeId: user.organizationId },
    { scope: 'user', scopeId: user.id },
  ];
  if (user.teamId) scopes.push({ scope: 'team', scopeId: user.teamId });
  const personal = await findPersonalProject(db, user.id);
  if (personal) scopes.push({ scope: 'project', scopeId: personal.id });
  return scopes;
}

function myKeyView(row: Awaited<ReturnType<typeof keysOfUser>>[number]) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    hint: row.keyHint,
    deviceId: row.grantId,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

function myDeviceView(row: Awaited<ReturnType<typeof grantsOfUser>>[number]) {
  return {
    id: row.id,
    name: row.deviceName,
    clientId: row.clientId,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
