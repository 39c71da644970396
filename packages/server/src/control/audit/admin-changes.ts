import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AuditTrail, adminAuditActor, changeVerbOf, sentBody } from './trail.js';

/**
 * What the audit log calls a change made through the admin API. The rule: the route's first
 * segment, singular and snake_case, is the target type (`/routing-policies/:id` →
 * `routing_policy`); POST is `create`, PUT and PATCH `update`, DELETE `delete`; a further named
 * segment is the verb (`POST /users/:id/revoke-access` → `user.revoke_access`). The exceptions
 * are written here, so a new admin module (roles, bindings …) is audited by the rule with no
 * change at all.
 */
const TARGET_TYPES: Record<string, string> = {
  tokens: 'admin_token',
  sso: 'sso_connection',
  'claude-code-settings': 'claude_code_settings',
};
const ROUTES: Record<string, { action: string; targetId?: string }> = {
  // Off-boarding: every key, CLI sign-in and session of a person's ends.
  'POST /users/:id/revoke-access': { action: 'user.offboard' },
  'DELETE /virtual-keys/:id': { action: 'virtual_key.revoke' },
  'DELETE /tokens/:id': { action: 'admin_token.revoke' },
  'DELETE /scim-tokens/:id': { action: 'scim_token.revoke' },
  // One connection per protocol: the protocol names it (as DELETE /sso/:protocol does).
  'PUT /sso/oidc': { action: 'sso_connection.update', targetId: 'oidc' },
  'PUT /sso/saml': { action: 'sso_connection.update', targetId: 'saml' },
};

/** The admin API's mount point; routes are named without it. */
const ADMIN_PREFIX = '/api/admin';

export function adminChangeAction(
  method: string,
  path: string,
): { action: string; targetType: string; targetId?: string } {
  const segments = path.split('/').filter((segment) => segment && !segment.startsWith(':'));
  const resource = segments[0] ?? 'admin';
  const targetType = TARGET_TYPES[resource] ?? singular(resource).replaceAll('-', '_');
  const verb = segments[1]?.replaceAll('-', '_') ?? changeVerbOf(method) ?? method.toLowerCase();
  return { action: `${targetType}.${verb}`, targetType, ...ROUTES[`${method} ${path}`] };
}

function singular(word: string): string {
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  return word.endsWith('s') ? word.slice(0, -1) : word;
}

/**
 * An onSend hook on the admin API: every successful (2xx) POST, PUT, PATCH or DELETE is recorded
 * before the answer leaves, with the answer itself (redacted) as `after` and the target's
 * previous `after` as `before`. What the caller saw is exactly what the log keeps.
 */
export function auditAdminChanges(trail: AuditTrail) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (!changeVerbOf(request.method) || reply.statusCode < 200 || reply.statusCode >= 300) return payload;
    // Refused before the caller was known (401): nothing changed.
    if (!request.admin) return payload;
    const route = request.routeOptions.url ?? request.url;
    const path = route.startsWith(ADMIN_PREFIX) ? route.slice(ADMIN_PREFIX.length) : route;
    const { action, targetType, targetId: named } = adminChangeAction(request.method, path);
    const body = sentBody(payload);
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    // An object's id; for the organisation's own settings (one per organisation), the organisation.
    const targetId =
      named ??
      params.id ??
      params.protocol ??
      stringField(body, 'id') ??
      stringField(body, 'userId') ??
      stringField(body, 'teamId') ??
      request.admin.organizationId;
    await trail.record({
      organizationId: request.admin.organizationId,
      actor: adminAuditActor(request.admin.actor),
      action,
      target: { type: targetType, id: targetId },
      after: request.method === 'DELETE' ? null : (body ?? null),
      request,
    });
    return payload;
  };
}

function stringField(body: unknown, name: string): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}
