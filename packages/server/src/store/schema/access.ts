import {
  bigint,
  bigserial,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';
import { organizations } from './tenancy.js';

/** Who may do what, and the record of what they did: admin tokens, custom roles and bindings, the change feed, the hash-chained audit log. */

/**
 * Admin tokens for automation: a named set of permissions in one organisation, stored as a keyed
 * hash (the token is shown once), expiring or not, revocable, with the time of its last use.
 */
export const adminTokens = pgTable('admin_tokens', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id')
    .notNull()
    .references(() => organizations.id),
  name: text('name').notNull(),
  /** Permission names from the catalogue (`control/permissions.ts`). */
  permissions: jsonb('permissions').$type<string[]>().notNull(),
  /** Where the permissions apply: the organisation, or one team or project in it. */
  scope: text('scope').$type<GrantScope>().notNull().default('organization'),
  scopeId: text('scope_id'),
  tokenHash: text('token_hash').notNull().unique(),
  tokenHint: text('token_hint').notNull(),
  createdAt: createdAt(),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
});

/** Where a role binding or an admin token applies: the organisation, one team, or one project. */
export const grantScopes = ['organization', 'team', 'project'] as const;
export type GrantScope = (typeof grantScopes)[number];

/** A custom role: a named set of permissions from the catalogue, in one organisation. */
export const customRoles = pgTable(
  'custom_roles',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    description: text('description'),
    permissions: jsonb('permissions').$type<string[]>().notNull(),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex('custom_roles_org_name').on(table.organizationId, table.name)],
);

/** Who a role binding gives its role to: a person, every member of a team, or an IdP group. */
export const bindingSubjects = ['user', 'team', 'idpGroup'] as const;
export type BindingSubject = (typeof bindingSubjects)[number];

/**
 * A role given to a subject at a scope. `role` is a built-in role's name or a custom role's id;
 * `subjectId` a user id, a team id, or an identity-provider group's name.
 */
export const roleBindings = pgTable(
  'role_bindings',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    role: text('role').notNull(),
    subjectKind: text('subject_kind').$type<BindingSubject>().notNull(),
    subjectId: text('subject_id').notNull(),
    scope: text('scope').$type<GrantScope>().notNull().default('organization'),
    scopeId: text('scope_id'),
    createdAt: createdAt(),
  },
  (table) => [index('role_bindings_subject').on(table.organizationId, table.subjectKind, table.subjectId)],
);

/**
 * Every change that gateway caches depend on (revocations, policies, budgets, rate limits), in
 * order. The message bus carries announcements fast; this log makes them durable, so an instance
 * that missed a message while the bus was down still learns of the change by reading the log.
 */
export const changeLog = pgTable(
  'change_log',
  {
    sequence: bigserial('sequence', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    createdAt: createdAt(),
  },
  (table) => [index('change_log_time').on(table.createdAt)],
);

/** Who an audit event names as its actor (`control/audit/trail.ts`). */
export const auditActorKinds = ['bootstrap', 'adminToken', 'person', 'scim', 'system'] as const;
export type AuditActorKind = (typeof auditActorKinds)[number];

/**
 * The audit log: append-only, hash-chained per organisation. Each row's `hash` covers its
 * content and the previous row's hash (`control/audit/hash.ts`), so an edited, removed or
 * reordered row breaks the chain from there on. The server's database role needs only INSERT
 * and SELECT here (docs/operations.md).
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    /** 1, 2, 3 … per organisation, without gaps. */
    seq: bigint('seq', { mode: 'number' }).notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    actorKind: text('actor_kind').$type<AuditActorKind>().notNull(),
    actorId: text('actor_id'),
    actorLabel: text('actor_label'),
    /** `budgets.update`, `sign_in.failed`, `scim.user.deactivate` … */
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    /** Redacted: no secret is ever stored here. */
    before: jsonb('before'),
    after: jsonb('after'),
    sourceIp: text('source_ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (table) => [
    uniqueIndex('audit_events_seq').on(table.organizationId, table.seq),
    index('audit_events_target').on(table.organizationId, table.targetType, table.targetId, table.seq),
    index('audit_events_time').on(table.organizationId, table.occurredAt),
  ],
);

/**
 * Each organisation's chain head: the writer locks it (SELECT … FOR UPDATE) to append, so two
 * instances never give out the same seq. The one audit table the server updates.
 */
export const auditChainHeads = pgTable('audit_chain_heads', {
  organizationId: text('organization_id')
    .primaryKey()
    .references(() => organizations.id),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
  lastHash: text('last_hash').notNull(),
});

/** The chain head at a seq, signed with the server's published key (a compact JWS). */
export const auditCheckpoints = pgTable(
  'audit_checkpoints',
  {
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
    jws: text('jws').notNull(),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.organizationId, table.seq] })],
);
