import { budgetWindows } from '@gatehouse/core';
import { z } from 'zod';
import type { ProviderAdapter } from '../../gateway/index.js';
import { hasUserinfo } from '../../security/outbound-networks.js';
import { budgetActions, budgetScopes, rateLimitScopes } from '../../store/schema.js';
import { usageGroupings, usageOutcomes } from '../../store/usage-events.js';
import { usageIntervals } from '../../store/usage-series.js';
import { typeDescription, typeSpecificBodyFields } from './provider-fields.js';

/**
 * The admin API's request and response shapes. The same schemas validate requests and generate
 * `/api/openapi.json`, so the document cannot drift from what the server accepts.
 */

const id = z.string().min(1).max(64);
const name = z.string().trim().min(1).max(200);
const timestamp = z.string().describe('ISO 8601 timestamp');

export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ id: 'AdminError' });

const priceOverride = z.object({
  inputPerMTok: z.number().nonnegative().describe('USD per million input tokens'),
  outputPerMTok: z.number().nonnegative().describe('USD per million output tokens'),
  cacheReadPerMTok: z.number().nonnegative().optional(),
  cacheWritePerMTok: z.number().nonnegative().optional(),
});

/**
 * `POST /providers`: the fields every credential has, plus each registered adapter's own (its
 * settings and secrets schemas), flat. Drawn from the registry when the routes are registered.
 */
export function createProviderBody(adapters: readonly ProviderAdapter[]) {
  const types = adapters.map((adapter) => adapter.type);
  return z
    .object({
      name,
      type: z.enum(types as [string, ...string[]]).describe(typeDescription(adapters)),
      baseUrl: z
        .url({ protocol: /^https?$/ })
        .refine((value) => !hasUserinfo(value), {
          message: 'baseUrl must not carry a user name or password: give the secret as apiKey',
        })
        .optional()
        .describe(
          "The provider's API base, e.g. https://api.openai.com/v1 for any OpenAI-compatible upstream",
        ),
      ...typeSpecificBodyFields(adapters),
      models: z
        .array(z.string().min(1))
        .optional()
        .describe(
          "Models this credential serves: exact ids or * patterns (claude-*). Omitted: its vendor's own models; nothing for a custom baseUrl (except azure, bedrock, vertex)",
        ),
      forwardIdentity: z
        .boolean()
        .optional()
        .describe("Send the caller's signed identity (x-gatehouse-identity JWT) to this trusted upstream"),
      priceOverrides: z
        .record(z.string(), priceOverride)
        .optional()
        .describe('Per-model prices that win over the catalogue'),
      defaultPrice: priceOverride
        .optional()
        .describe(
          'The price of any model this credential serves that neither priceOverrides nor the catalogue prices; without it such calls are recorded as unpriced, and refused under a block budget',
        ),
    })
    .strict();
}

export const providerSchema = z
  .object({
    id,
    name: z.string(),
    type: z.string().describe('The provider type, one of those POST /providers takes'),
    baseUrl: z.string().nullable(),
    hasApiKey: z.boolean(),
    forwardIdentity: z.boolean(),
    settings: z.record(z.string(), z.unknown()).describe('Type-specific settings that are not secret'),
    models: z.array(z.string()).nullable(),
    priceOverrides: z.record(z.string(), priceOverride),
    defaultPrice: priceOverride.nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Provider' });

export const createRoutingPolicyBody = z
  .object({
    name,
    providers: z.array(id).min(1).describe('Provider credential ids, tried in this order'),
    modelAliases: z.record(z.string().min(1), z.string().min(1)).optional(),
    allowedModels: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Models keys may use (`*` matches any run of characters, e.g. `claude-*`); omit to allow all',
      ),
    deniedModels: z
      .array(z.string().min(1))
      .optional()
      .describe('Models refused even when allowed (`*` patterns)'),
    isDefault: z.boolean().optional().describe('Projects without a policy of their own inherit the default'),
  })
  .strict();

export const routingPolicySchema = z
  .object({
    id,
    name: z.string(),
    providers: z.array(z.string()),
    modelAliases: z.record(z.string(), z.string()),
    allowedModels: z.array(z.string()).nullable(),
    deniedModels: z.array(z.string()),
    isDefault: z.boolean(),
    createdAt: timestamp,
  })
  .meta({ id: 'RoutingPolicy' });

export const createProjectBody = z.object({ name, routingPolicyId: id.optional() }).strict();

export const projectSchema = z
  .object({
    id,
    name: z.string(),
    isPersonal: z.boolean(),
    routingPolicyId: z.string().nullable(),
    teamId: z.string().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Project' });

export const createVirtualKeyBody = z
  .object({
    projectId: id,
    name,
    expiresInSeconds: z
      .number()
      .int()
      .positive()
      .max(10 * 365 * 24 * 3600)
      .optional()
      .describe('Omit for a key that does not expire'),
  })
  .strict();

export const virtualKeySchema = z
  .object({
    id,
    projectId: z.string(),
    name: z.string(),
    kind: z.enum(['service', 'personal']),
    userId: z.string().nullable().describe('The person a personal key acts for; null for a service key'),
    hint: z.string().describe('The last characters of the key, to recognise it'),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: 'VirtualKey' });

export const listVirtualKeysQuery = z
  .object({
    projectId: id.optional().describe('Only keys of this project'),
    userId: id.optional().describe("Only this person's personal keys"),
  })
  .strict();

export const createdVirtualKeySchema = virtualKeySchema
  .extend({ key: z.string().describe('The key itself: shown this once, stored only as a keyed hash') })
  .meta({ id: 'CreatedVirtualKey' });

export const usageQuery = z
  .object({
    groupBy: z.enum(usageGroupings).default('model').describe('What each row is for (default: model)'),
    from: z.iso.datetime({ offset: true }).optional().describe('Inclusive start (ISO 8601)'),
    to: z.iso.datetime({ offset: true }).optional().describe('Exclusive end (ISO 8601)'),
    keyId: id.optional().describe('Only calls made with this virtual key'),
    principalId: id.optional().describe('Only calls by this user (or, for service keys, this key)'),
    projectId: id.optional(),
    teamId: id.optional(),
    model: z.string().min(1).max(200).optional(),
    providerId: id.optional().describe('Only calls served (or tried last) by this provider credential'),
    tool: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('Only calls by this coding tool (claude-code, codex, gemini-cli, cursor, opencode, …)'),
    interval: z
      .enum(usageIntervals)
      .optional()
      .describe(
        'A time series: rows per hour or per day (in the organisation time zone) and group; from defaults to 48 hours (hour) or 30 days (day) before to, to to now',
      ),
    status: z
      .enum(usageOutcomes)
      .optional()
      .describe('served: answered 2xx; refused: by a budget, rate limit or model rule; errors: the rest'),
  })
  .strict();

export const usageResponseSchema = z
  .object({
    groupBy: z.enum(usageGroupings),
    interval: z.enum(usageIntervals).optional().describe('Present for a time series'),
    buckets: z
      .array(timestamp)
      .optional()
      .describe('A time series: every bucket start from `from` to `to`, those without calls included'),
    rows: z.array(
      z.object({
        bucket: timestamp
          .optional()
          .describe("A time series: the start of this row's bucket; buckets without calls have no rows"),
        group: z
          .string()
          .nullable()
          .describe('The principal, project, team, key, model, provider or tool; null when calls had none'),
        requests: z.number().int().describe('Calls served (2xx, not cut off)'),
        refused: z
          .number()
          .int()
          .describe(
            'Calls Gatehouse refused: budget (402), its own rate limits (429), model rules (403/404)',
          ),
        errors: z.number().int().describe('Calls that failed: provider errors, 5xx, streams cut off'),
        inputTokens: z.number().int().describe('All input tokens, cached ones included'),
        outputTokens: z.number().int().describe('All output tokens, reasoning included'),
        cacheReadTokens: z.number().int(),
        cacheWriteTokens: z.number().int(),
        costUsd: z.number(),
      }),
    ),
  })
  .meta({ id: 'UsageReport' });

export const idParams = z.object({ id });
export const listOf = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item) });

export const createBudgetBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    scope: z
      .enum(budgetScopes)
      .describe('What the budget limits: the organisation, a team, project, user or key'),
    scopeId: id.describe('The id of that organisation, team, project, user or key'),
    limitUsd: z.number().positive().max(1e9),
    window: z
      .enum(budgetWindows)
      .describe(
        "Calendar window in the organisation's time zone (weeks start on Monday); total never resets",
      ),
    action: z
      .enum(budgetActions)
      .describe('block: refuse with 402 once spent; alert: notify at 50, 80 and 100 %'),
    providerId: id.optional().describe('Count only spend on this provider credential'),
    model: z.string().min(1).max(200).optional().describe('Count only spend on this model'),
  })
  .strict();

export const budgetSchema = z
  .object({
    id,
    name: z.string().nullable(),
    scope: z.enum(budgetScopes),
    scopeId: z.string(),
    limitUsd: z.number(),
    window: z.enum(budgetWindows),
    action: z.enum(budgetActions),
    providerId: z.string().nullable(),
    model: z.string().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Budget' });

export const budgetStatusSchema = budgetSchema
  .extend({
    spentUsd: z.number().describe('Settled spend in the current window'),
    reservedUsd: z.number().describe('Held for requests in flight'),
    remainingUsd: z.number().describe('limitUsd - spentUsd - reservedUsd, never below 0'),
    windowStart: timestamp.nullable(),
    resetsAt: timestamp.nullable().describe('When the window ends; null for total'),
  })
  .meta({ id: 'BudgetStatus' });

const perMinute = z.number().int().positive().max(1_000_000_000);

export const createRateLimitBody = z
  .object({
    scope: z
      .enum(rateLimitScopes)
      .describe(
        'What the limit applies to: a virtual key, a user (principal), a project or a provider credential',
      ),
    scopeId: id.describe('The id of that key, user, project or provider credential'),
    requestsPerMinute: perMinute
      .optional()
      .describe('Requests admitted per minute; omit for no request limit'),
    tokensPerMinute: perMinute
      .optional()
      .describe(
        'Tokens admitted per minute, counted on the estimate made before dispatch (input from the body size, output bounded by max_tokens); omit for no token limit',
      ),
  })
  .strict()
  .refine((body) => body.requestsPerMinute !== undefined || body.tokensPerMinute !== undefined, {
    message: 'Set requestsPerMinute, tokensPerMinute or both: a rate limit needs at least one of them.',
    path: ['requestsPerMinute'],
  });

export const rateLimitSchema = z
  .object({
    id,
    scope: z.enum(rateLimitScopes),
    scopeId: z.string(),
    requestsPerMinute: z.number().int().nullable(),
    tokensPerMinute: z.number().int().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'RateLimit' });
