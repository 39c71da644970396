import { budgetWindows } from '@gatehouse/core';
import { z } from 'zod';
import type { ProviderAdapter } from '../../gateway/index.js';
import { budgetActions } from '../../store/schema.js';
import { createProviderBody, createRoutingPolicyBody } from './schemas.js';

/**
 * Request shapes of the admin API's PATCH routes. Each field left out stays as it is; `null`
 * clears a field that may be empty. Like the creation shapes, they validate and document at once.
 */

const id = z.string().min(1).max(64);
const name = z.string().trim().min(1).max(200);

/** `PATCH /providers/{id}`: the creation body without its type, every field optional. */
export function updateProviderBody(adapters: readonly ProviderAdapter[]) {
  const create = createProviderBody(adapters);
  return create
    .omit({ type: true })
    .partial()
    .extend({
      baseUrl: create.shape.baseUrl.unwrap().nullable().optional().describe('null: the type’s own endpoint'),
      models: z
        .array(z.string().min(1))
        .nullable()
        .optional()
        .describe("Models this credential serves; null: its own vendor's models"),
      defaultPrice: create.shape.defaultPrice
        .unwrap()
        .nullable()
        .optional()
        .describe('The price of models nothing else prices; null: none (such calls are unpriced)'),
    })
    .describe('Secret fields given here replace the stored ones (rotation); they are never returned');
}

export const updateRoutingPolicyBody = createRoutingPolicyBody.partial().extend({
  allowedModels: z
    .array(z.string().min(1))
    .nullable()
    .optional()
    .describe('Models keys may use (`*` patterns); null allows all'),
  isDefault: z
    .boolean()
    .optional()
    .describe('true: this policy becomes the default. Make another the default to move it.'),
});

export const updateProjectBody = z
  .object({
    name: name.optional(),
    routingPolicyId: id.nullable().optional().describe("null: inherit the organisation's default policy"),
    teamId: id.nullable().optional().describe("The team whose budgets and policies reach the project's keys"),
  })
  .strict();

export const updateTeamBody = z.object({ name }).strict();

export const updateVirtualKeyBody = z
  .object({
    name: name.optional(),
    expiresAt: z.iso
      .datetime({ offset: true })
      .nullable()
      .optional()
      .describe('New expiry (ISO 8601); null: never expires'),
    expiresInSeconds: z
      .number()
      .int()
      .positive()
      .max(10 * 365 * 24 * 3600)
      .optional()
      .describe('New expiry, counted from now'),
  })
  .strict()
  .refine((body) => body.expiresAt === undefined || body.expiresInSeconds === undefined, {
    message: 'Set expiresAt or expiresInSeconds, not both.',
    path: ['expiresAt'],
  });

export const updateBudgetBody = z
  .object({
    name: name.nullable().optional(),
    limitUsd: z.number().positive().max(1e9).optional(),
    window: z.enum(budgetWindows).optional(),
    action: z.enum(budgetActions).optional(),
    providerId: id.nullable().optional().describe('null: count spend on every provider'),
    model: z.string().min(1).max(200).nullable().optional().describe('null: count spend on every model'),
  })
  .strict();

const perMinute = z.number().int().positive().max(1_000_000_000);

export const updateRateLimitBody = z
  .object({
    requestsPerMinute: perMinute.nullable().optional().describe('null: no request limit'),
    tokensPerMinute: perMinute.nullable().optional().describe('null: no token limit'),
  })
  .strict();
