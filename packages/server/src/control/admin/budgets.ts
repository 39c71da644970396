import { windowBounds } from '@gatehouse/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type BudgetRow, createBudget, deleteBudget, getBudget, listBudgets } from '../../store/budgets.js';
import type { Database } from '../../store/database.js';
import {
  budgetSchema,
  budgetStatusSchema,
  createBudgetBody,
  errorSchema,
  idParams,
  listOf,
} from './schemas.js';

export interface BudgetCounters {
  /** Spent and reserved in the window starting at `windowStart`, as the gateways see them. */
  counter(budget: BudgetRow, windowStart: number): Promise<{ spentUsd: number; reservedUsd: number }>;
}

export interface BudgetRouteOptions {
  db: Database;
  counters: BudgetCounters;
  timeZoneOf(organizationId: string): Promise<string>;
  /** Budgets are cached by every gateway: a change must reach them. */
  onBudgetChange(): void;
  now(): Date;
}

const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema };
const security = [{ adminToken: [] }];

/** `/api/admin/budgets`: limits per organisation, team, project, user or key, and where they stand. */
export function budgetRoutes(parent: FastifyInstance, options: BudgetRouteOptions): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db } = options;

  app.post(
    '/budgets',
    {
      schema: {
        tags: ['budgets'],
        summary: 'Set a budget',
        security,
        body: createBudgetBody,
        response: { 201: budgetSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await createBudget(db, request.admin.organizationId, {
        ...request.body,
        name: request.body.name ?? null,
        providerId: request.body.providerId ?? null,
        model: request.body.model ?? null,
      });
      options.onBudgetChange();
      return reply.code(201).send(budgetView(row));
    },
  );
  app.get(
    '/budgets',
    { schema: { tags: ['budgets'], security, response: { 200: listOf(budgetSchema), ...errors } } },
    async (request) => ({ data: (await listBudgets(db, request.admin.organizationId)).map(budgetView) }),
  );
  app.get(
    '/budgets/:id',
    {
      schema: {
        tags: ['budgets'],
        summary: 'A budget with its spent, reserved and remaining amounts and its reset time',
        security,
        params: idParams,
        response: { 200: budgetStatusSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await getBudget(db, request.admin.organizationId, request.params.id);
      if (!row) return reply.code(404).send({ error: { code: 'not_found', message: 'budget not found' } });
      const bounds = windowBounds(
        row.window,
        options.now().getTime(),
        await options.timeZoneOf(row.organizationId),
      );
      const { spentUsd, reservedUsd } = await options.counters.counter(row, bounds.start);
      return {
        ...budgetView(row),
        spentUsd,
        reservedUsd,
        remainingUsd: Math.max(0, row.limitUsd - spentUsd - reservedUsd),
        windowStart: row.window === 'total' ? null : new Date(bounds.start).toISOString(),
        resetsAt: bounds.end === undefined ? null : new Date(bounds.end).toISOString(),
      };
    },
  );
  app.delete(
    '/budgets/:id',
    {
      schema: {
        tags: ['budgets'],
        security,
        params: idParams,
        response: { 204: z.null().describe('Deleted'), ...errors },
      },
    },
    async (request, reply) => {
      if (!(await deleteBudget(db, request.admin.organizationId, request.params.id))) {
        return reply.code(404).send({ error: { code: 'not_found', message: 'budget not found' } });
      }
      options.onBudgetChange();
      return reply.code(204).send(null);
    },
  );
}

function budgetView(row: BudgetRow) {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    scopeId: row.scopeId,
    limitUsd: row.limitUsd,
    window: row.window,
    action: row.action,
    providerId: row.providerId,
    model: row.model,
    createdAt: row.createdAt.toISOString(),
  };
}
