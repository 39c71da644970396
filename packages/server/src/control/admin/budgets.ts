import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  type BudgetRow,
  createBudget,
  deleteBudget,
  getBudget,
  listBudgets,
  updateBudget,
} from '../../store/budgets.js';
import type { Database } from '../../store/database.js';
import { getProvider } from '../../store/providers.js';
import { budgetStanding } from '../budget-standing.js';
import { roundUsd } from './money.js';
import { notYours, placesFor, reaches } from './places.js';
import { adminError, deletedResponse, errorResponses, notFound, security } from './replies.js';
import { budgetSchema, budgetStatusSchema, createBudgetBody, idParams, listOf } from './schemas.js';
import { scopeExists, unknownScopeMessage } from './scope-references.js';
import { updateBudgetBody } from './update-schemas.js';

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

/** `/api/admin/budgets`: limits per organisation, team, project, user or key, and where they stand. */
export function budgetRoutes(parent: FastifyInstance, options: BudgetRouteOptions): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db } = options;

  /** Where a budget stands now: one computation for the list and the single read alike. */
  async function budgetStatus(row: BudgetRow, timeZone: string) {
    const standing = await budgetStanding(row, {
      counter: options.counters.counter,
      now: options.now().getTime(),
      timeZone,
    });
    return {
      ...budgetView(row),
      ...standing,
      spentUsd: roundUsd(standing.spentUsd),
      reservedUsd: roundUsd(standing.reservedUsd),
      remainingUsd: roundUsd(standing.remainingUsd),
    };
  }
  const statusOf = async (row: BudgetRow) => budgetStatus(row, await options.timeZoneOf(row.organizationId));

  /** The budget the route's `:id` names, if it is in the caller's organisation and reach. */
  async function reachableBudget(request: FastifyRequest, id: string) {
    const row = await getBudget(db, request.admin.organizationId, id);
    return row && reaches(request, await placesFor(db, request).budget(row)) ? row : undefined;
  }

  /** The 400 message when a provider filter names no credential of this organisation. */
  async function unknownProvider(organizationId: string, providerId: string | null | undefined) {
    if (!providerId || (await getProvider(db, organizationId, providerId))) return undefined;
    return `providerId: no provider credential ${providerId} in this organisation.`;
  }

  app.post(
    '/budgets',
    {
      schema: {
        tags: ['budgets'],
        summary: 'Set a budget',
        security,
        body: createBudgetBody,
        response: { 201: budgetSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const { scope, scopeId, providerId } = request.body;
      if (!(await scopeExists(db, organizationId, scope, scopeId))) {
        return reply.code(400).send(adminError('unknown_scope', unknownScopeMessage(scope, scopeId)));
      }
      if (!reaches(request, await placesFor(db, request).budgetScope(scope, scopeId))) {
        return notYours(reply, 'budgets:manage');
      }
      const badProvider = await unknownProvider(organizationId, providerId);
      if (badProvider) return reply.code(400).send(adminError('unknown_provider', badProvider));
      const row = await createBudget(db, organizationId, {
        ...request.body,
        name: request.body.name ?? null,
        providerId: providerId ?? null,
        model: request.body.model ?? null,
      });
      options.onBudgetChange();
      return reply.code(201).send(budgetView(row));
    },
  );
  app.get(
    '/budgets',
    {
      schema: {
        tags: ['budgets'],
        summary: 'Every budget with its spent, reserved and remaining amounts and its reset time',
        security,
        response: { 200: listOf(budgetStatusSchema), ...errorResponses },
      },
    },
    async (request) => {
      const organizationId = request.admin.organizationId;
      const timeZone = await options.timeZoneOf(organizationId);
      const places = placesFor(db, request);
      const rows = await listBudgets(db, organizationId);
      const reached = await Promise.all(rows.map(async (row) => reaches(request, await places.budget(row))));
      const visible = rows.filter((_, index) => reached[index]);
      return { data: await Promise.all(visible.map((row) => budgetStatus(row, timeZone))) };
    },
  );
  app.get(
    '/budgets/:id',
    {
      schema: {
        tags: ['budgets'],
        summary: 'A budget with its spent, reserved and remaining amounts and its reset time',
        security,
        params: idParams,
        response: { 200: budgetStatusSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await reachableBudget(request, request.params.id);
      return row ? statusOf(row) : reply.code(404).send(notFound('budget'));
    },
  );
  app.patch(
    '/budgets/:id',
    {
      schema: {
        tags: ['budgets'],
        summary: 'Change a budget’s limit, window, action, name or filters (its scope stays)',
        security,
        params: idParams,
        body: updateBudgetBody,
        response: { 200: budgetStatusSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      if (!(await reachableBudget(request, request.params.id)))
        return reply.code(404).send(notFound('budget'));
      const badProvider = await unknownProvider(organizationId, request.body.providerId);
      if (badProvider) return reply.code(400).send(adminError('unknown_provider', badProvider));
      const row = await updateBudget(db, organizationId, request.params.id, request.body);
      if (!row) return reply.code(404).send(notFound('budget'));
      options.onBudgetChange();
      return statusOf(row);
    },
  );
  app.delete(
    '/budgets/:id',
    {
      schema: {
        tags: ['budgets'],
        security,
        params: idParams,
        response: { 204: deletedResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      if (
        !(await reachableBudget(request, request.params.id)) ||
        !(await deleteBudget(db, request.admin.organizationId, request.params.id))
      ) {
        return reply.code(404).send(notFound('budget'));
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
    limitUsd: roundUsd(row.limitUsd),
    window: row.window,
    action: row.action,
    providerId: row.providerId,
    model: row.model,
    createdAt: row.createdAt.toISOString(),
  };
}
