import { integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';

/** Organisations, their teams and their people. */

export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  /** IANA time zone that day, week and month budgets are aligned to. */
  timeZone: text('time_zone').notNull().default('UTC'),
  /** Lifetime of the personal keys people get by signing in. */
  personalKeyTtlSeconds: integer('personal_key_ttl_seconds').notNull().default(86_400),
  /**
   * Email domains whose people join this organisation on first sign-in. Empty: anyone the
   * organisation's own identity provider vouches for.
   */
  emailDomains: jsonb('email_domains').$type<string[]>().notNull().default([]),
  /**
   * What a budgeted call gets while the database or the hot state cannot be reached: `closed`
   * refuses it (503 with retry-after), `open` serves it unmetered against budgets.
   */
  storageOutageMode: text('storage_outage_mode').$type<StorageOutageMode>().notNull().default('closed'),
  /**
   * Release flags an owner switched for this organisation (`release_ui_*`: true or false). A flag
   * not named here takes its default; `FEATURE_FLAG_FORCE_ENABLE` overrides both.
   */
  featureFlags: jsonb('feature_flags').$type<Record<string, boolean>>().notNull().default({}),
  createdAt: createdAt(),
});

export const storageOutageModes = ['closed', 'open'] as const;
export type StorageOutageMode = (typeof storageOutageModes)[number];

/**
 * The release flags `organizations.feature_flags` may switch (what each one hides and gates is in
 * `control/feature-flags.ts`). Here, below the control plane, so the config can refuse unknown
 * names in FEATURE_FLAG_FORCE_ENABLE at start.
 */
export const featureFlagNames = [
  'release_ui_ai_gateway_menu_enabled',
  'release_ui_ai_governance_enabled',
] as const;
export type FeatureFlagName = (typeof featureFlagNames)[number];

export const teams = pgTable('teams', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id')
    .notNull()
    .references(() => organizations.id),
  name: text('name').notNull(),
  /** The identity provider's id for the group this team mirrors (SCIM `externalId`). */
  externalId: text('external_id'),
  createdAt: createdAt(),
});

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    email: text('email').notNull(),
    name: text('name'),
    /** The identity provider's stable subject, once the user has signed in with SSO. */
    externalSubject: text('external_subject'),
    /** The provisioning system's id for the person (SCIM `externalId`). */
    externalId: text('external_id'),
    teamId: text('team_id').references(() => teams.id),
    /**
     * The groups the identity provider named at the person's last sign-in (an OIDC groups
     * claim); role bindings to an `idpGroup` subject follow them.
     */
    idpGroups: jsonb('idp_groups').$type<string[]>().notNull().default([]),
    createdAt: createdAt(),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
  },
  (table) => [uniqueIndex('users_org_email').on(table.organizationId, table.email)],
);
