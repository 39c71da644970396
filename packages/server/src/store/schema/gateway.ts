import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';
import { organizations, teams, users } from './tenancy.js';

/** What the gateway routes with: provider credentials, routing policies, projects, virtual keys, and the Claude Code settings an organisation pushes. */

/**
 * A credential's provider type: the `type` of one adapter in `gateway/providers/registry.ts`, the
 * one list of what exists (the admin API refuses the others), so adding a provider needs no change here.
 */
export type ProviderType = string;

/** A connection to one provider account. The secret is an AES-256-GCM envelope, never plaintext. */
export const providerCredentials = pgTable('provider_credentials', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id')
    .notNull()
    .references(() => organizations.id),
  name: text('name').notNull(),
  type: text('type').$type<ProviderType>().notNull(),
  baseUrl: text('base_url'),
  /** Encrypted JSON of the type's secret fields (API key, access keys, service account). */
  secretCiphertext: text('secret_ciphertext'),
  /** Type-specific settings that are not secret: region, project, API version, deployments. */
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  /** Send the caller's signed identity (`x-gatehouse-identity`) to this upstream: for trusted ones only. */
  forwardIdentity: boolean('forward_identity').notNull().default(false),
  /**
   * Models this credential serves, exact ids or `*` patterns; null means its own vendor's models
   * (and nothing, for an OpenAI-compatible server at a custom base URL).
   */
  models: jsonb('models').$type<string[] | null>(),
  /** Per-model prices that win over the catalogue (negotiated rates, fine-tunes). */
  priceOverrides: jsonb('price_overrides').$type<Record<string, PriceOverride>>().notNull().default({}),
  /** The price of any model it serves that neither an override nor the catalogue prices. */
  defaultPrice: jsonb('default_price').$type<PriceOverride | null>(),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export interface PriceOverride {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok?: number | undefined;
  cacheWritePerMTok?: number | undefined;
}

export const routingPolicies = pgTable(
  'routing_policies',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    /** Provider credential ids, tried in this order. */
    providerIds: jsonb('provider_ids').$type<string[]>().notNull(),
    /** Alias → model id, e.g. `fast` → `claude-haiku-4-5`. */
    modelAliases: jsonb('model_aliases').$type<Record<string, string>>().notNull().default({}),
    /** Models (or `*` patterns) keys under this policy may use; null allows every model. */
    allowedModels: jsonb('allowed_models').$type<string[] | null>(),
    /** Models (or `*` patterns) refused even when allowed. */
    deniedModels: jsonb('denied_models').$type<string[]>().notNull().default([]),
    /** The policy projects without one of their own inherit; at most one per organisation. */
    isDefault: boolean('is_default').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('routing_policies_one_default').on(table.organizationId).where(sql`${table.isDefault}`),
  ],
);

export const projects = pgTable(
  'projects',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    teamId: text('team_id').references(() => teams.id),
    name: text('name').notNull(),
    /** A user's own project, holding their personal keys. */
    isPersonal: boolean('is_personal').notNull().default(false),
    ownerUserId: text('owner_user_id').references(() => users.id),
    routingPolicyId: text('routing_policy_id').references(() => routingPolicies.id),
    createdAt: createdAt(),
  },
  (table) => [
    // One personal project per person, even when two first sign-ins race.
    uniqueIndex('projects_one_personal').on(table.ownerUserId).where(sql`${table.isPersonal}`),
  ],
);

export const virtualKeyKinds = ['service', 'personal'] as const;
export type VirtualKeyKind = (typeof virtualKeyKinds)[number];

/** Virtual keys are stored only as an HMAC of the key; the key itself is shown once. */
export const virtualKeys = pgTable(
  'virtual_keys',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    /** The person a personal key acts for; null for service keys. */
    userId: text('user_id').references(() => users.id),
    kind: text('kind').$type<VirtualKeyKind>().notNull(),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull(),
    /** A few trailing characters, enough to recognise a key in a list. */
    keyHint: text('key_hint').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /** The CLI sign-in a personal key was minted for: signing that device out revokes it. */
    grantId: text('grant_id'),
  },
  (table) => [
    uniqueIndex('virtual_keys_hash').on(table.keyHash),
    index('virtual_keys_project').on(table.projectId),
  ],
);

/**
 * The Claude Code settings document an organisation (or one of its teams) pushes to Claude Code's
 * own gateway sign-in, served at `/managed/settings`. `teamId` '' is the organisation-wide one.
 */
export const managedSettings = pgTable(
  'managed_settings',
  {
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    teamId: text('team_id').notNull().default(''),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
    etag: text('etag').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.organizationId, table.teamId] })],
);
