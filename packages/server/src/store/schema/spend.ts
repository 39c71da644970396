import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';
import { organizations } from './tenancy.js';

/** What calls cost and what limits them: usage events, budgets and their alerts, rate limits, and the telemetry coding tools post. */

export interface UsageAttempt {
  providerId: string;
  status: number | undefined;
  errorCode: string | undefined;
  latencyMs: number;
}

/** One row per gateway request, appended in batches off the hot path. */
export const usageEvents = pgTable(
  'usage_events',
  {
    sequence: bigserial('sequence', { mode: 'number' }).primaryKey(),
    requestId: text('request_id').notNull(),
    organizationId: text('organization_id').notNull(),
    projectId: text('project_id').notNull(),
    /** The project's team, when it has one: team budgets are summed over it. */
    teamId: text('team_id'),
    /** The person (user id) or, for service keys, the key id: who spent. */
    principalId: text('principal_id').notNull(),
    keyId: text('key_id').notNull(),
    api: text('api').notNull(),
    model: text('model').notNull(),
    providerId: text('provider_id'),
    providerType: text('provider_type'),
    status: integer('status').notNull(),
    errorCode: text('error_code'),
    streamed: boolean('streamed').notNull(),
    /** True when tokens were estimated because the stream ended before the provider reported them. */
    usageEstimated: boolean('usage_estimated').notNull().default(false),
    inputTokens: integer('input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    cacheReadTokens: integer('cache_read_tokens').notNull().default(0),
    cacheWriteTokens: integer('cache_write_tokens').notNull().default(0),
    reasoningTokens: integer('reasoning_tokens').notNull().default(0),
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    priceSource: text('price_source'),
    /** True when no price was known for the model: the cost is unknown, not zero. */
    unpriced: boolean('unpriced').notNull().default(false),
    latencyMs: integer('latency_ms').notNull(),
    /** Every provider tried for the request, in order: fallbacks show here. */
    attempts: jsonb('attempts').$type<UsageAttempt[]>().notNull().default([]),
    firstByteMs: integer('first_byte_ms'),
    /**
     * The coding tool that made the call (`claude-code`, `codex`, `gemini-cli`, `cursor`, …), read
     * from its User-Agent; null when the caller is not one Gatehouse recognises.
     */
    clientTool: text('client_tool'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    uniqueIndex('usage_events_request').on(table.requestId),
    index('usage_events_org_time').on(table.organizationId, table.createdAt),
  ],
);

export const budgetScopes = ['org', 'team', 'project', 'user', 'key'] as const;
export type BudgetScope = (typeof budgetScopes)[number];
export const budgetActions = ['block', 'alert'] as const;
export type BudgetAction = (typeof budgetActions)[number];

/**
 * A spending limit on one scope, over a calendar window in the organisation's time zone,
 * optionally for one provider credential or one model only.
 */
export const budgets = pgTable(
  'budgets',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name'),
    scope: text('scope').$type<BudgetScope>().notNull(),
    /** The organisation, team, project, user or key id the budget limits. */
    scopeId: text('scope_id').notNull(),
    limitUsd: doublePrecision('limit_usd').notNull(),
    window: text('window').$type<'day' | 'week' | 'month' | 'total'>().notNull(),
    action: text('action').$type<BudgetAction>().notNull(),
    /** Only spend on this provider credential counts, when set. */
    providerId: text('provider_id'),
    /** Only spend on this model counts, when set. */
    model: text('model'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('budgets_scope').on(table.organizationId, table.scope, table.scopeId)],
);

export const rateLimitScopes = ['key', 'user', 'project', 'provider'] as const;
export type RateLimitScope = (typeof rateLimitScopes)[number];

/**
 * Requests and tokens per minute on one key, user (principal), project or provider credential,
 * enforced across every gateway instance. One row per scope, so each scope has exactly one
 * counter per kind in the hot state.
 */
export const rateLimits = pgTable(
  'rate_limits',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    scope: text('scope').$type<RateLimitScope>().notNull(),
    /** The key, user (principal), project or provider credential id the limit applies to. */
    scopeId: text('scope_id').notNull(),
    /** Null: requests are not limited on this scope. */
    requestsPerMinute: integer('requests_per_minute'),
    /** Null: tokens are not limited on this scope. */
    tokensPerMinute: integer('tokens_per_minute'),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex('rate_limits_scope').on(table.organizationId, table.scope, table.scopeId)],
);

/** Alert thresholds already announced, so each fires once per budget window across all instances. */
export const budgetAlerts = pgTable(
  'budget_alerts',
  {
    budgetId: text('budget_id').notNull(),
    windowStart: bigint('window_start', { mode: 'number' }).notNull(),
    /** Percent of the limit: 50, 80 or 100. */
    threshold: integer('threshold').notNull(),
    firedAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.budgetId, table.windowStart, table.threshold] })],
);

/** OTLP telemetry posted by coding tools, kept as received and attributed to who sent it. */
export const telemetryRecords = pgTable(
  'telemetry_records',
  {
    sequence: bigserial('sequence', { mode: 'number' }).primaryKey(),
    organizationId: text('organization_id').notNull(),
    principalId: text('principal_id').notNull(),
    keyId: text('key_id').notNull(),
    /** metrics, logs or traces. */
    signal: text('signal').notNull(),
    contentType: text('content_type').notNull(),
    /** The request body: JSON as text, protobuf as base64. */
    body: text('body').notNull(),
    receivedAt: createdAt(),
  },
  (table) => [
    index('telemetry_principal_time').on(table.organizationId, table.principalId, table.receivedAt),
  ],
);
