import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  adapterFor,
  type ProviderAdapter,
  registeredAdapters,
  type StandingCredential,
} from '../../gateway/index.js';
import type { OutboundNetworks } from '../../security/outbound-networks.js';
import type { SecretBox } from '../../security/secret-box.js';
import { budgetsReferencing } from '../../store/budgets.js';
import type { Database } from '../../store/database.js';
import {
  createProvider,
  deleteProvider,
  getProvider,
  listProviders,
  openProviderSecret,
  type ProviderRow,
  updateProvider,
} from '../../store/providers.js';
import { rateLimitsReferencing } from '../../store/rate-limits.js';
import { policiesUsingProvider } from '../../store/routing-policies.js';
import { assertNameFree } from '../../store/unique-names.js';
import { invalidCredential, invalidFields, splitFields } from './provider-fields.js';
import {
  adminError,
  anyUsers,
  deletedResponse,
  errorResponses,
  inUse,
  nameChecked,
  notFound,
  security,
  unsupportedProvider,
} from './replies.js';
import { createProviderBody, idParams, listOf, providerSchema } from './schemas.js';
import { updateProviderBody } from './update-schemas.js';

export interface ProviderRouteOptions {
  db: Database;
  box: SecretBox;
  /** Resolved keys carry decrypted credentials: every change must reach them at once. */
  onPolicyChange(): void;
  /** Where a base URL may point (no metadata, private or loopback address unless allowed). */
  outbound: OutboundNetworks;
}

/**
 * Why a URL the credential would make the gateway call may not be called (the base URL, and
 * the adapter's others, such as Vertex's token_uri), or undefined when every one may.
 */
async function refusedUrl(
  outbound: OutboundNetworks,
  adapter: ProviderAdapter,
  credential: StandingCredential,
): Promise<string | undefined> {
  const urls = [
    ...(credential.baseUrl === undefined ? [] : [{ field: 'baseUrl', url: credential.baseUrl }]),
    ...(adapter.credential.otherUrls?.(credential) ?? []),
  ];
  for (const { field, url } of urls) {
    const refusal = await outbound.refusalForUrl(field, url);
    if (refusal) return refusal;
  }
  return undefined;
}

/** `/api/admin/providers`: provider credentials; secrets go in sealed and never come out. */
export function providerRoutes(parent: FastifyInstance, options: ProviderRouteOptions): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db, box } = options;
  // Drawn now, from what is registered: the bodies, their validation and the document agree.
  const adapters = registeredAdapters();

  app.post(
    '/providers',
    {
      schema: {
        tags: ['providers'],
        summary: 'Connect a provider credential',
        security,
        body: createProviderBody(adapters),
        response: { 201: providerSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const adapter = adapterFor(request.body.type);
      if (!adapter) {
        return reply.code(400).send(unsupportedProvider(request.body.type));
      }
      const split = splitFields(adapter, request.body);
      const { secret, settings } = split;
      const standing = { baseUrl: request.body.baseUrl, settings, secret };
      const invalid =
        invalidFields(adapter, split) ??
        invalidCredential(adapter, standing) ??
        (await refusedUrl(options.outbound, adapter, standing));
      if (invalid) return reply.code(400).send(adminError('invalid_request', invalid));
      const organizationId = request.admin.organizationId;
      const created = await nameChecked(
        db.transaction(async (tx) => {
          await assertNameFree(tx, 'provider', organizationId, request.body.name);
          const { body } = request;
          return createProvider(tx, box, organizationId, {
            name: body.name,
            type: adapter.type,
            baseUrl: body.baseUrl,
            forwardIdentity: body.forwardIdentity,
            models: body.models,
            priceOverrides: body.priceOverrides,
            defaultPrice: body.defaultPrice,
            settings,
            secret,
          });
        }),
      );
      if ('conflict' in created) return reply.code(409).send(created.conflict);
      return reply.code(201).send(providerView(created.value));
    },
  );
  app.get(
    '/providers',
    {
      schema: { tags: ['providers'], security, response: { 200: listOf(providerSchema), ...errorResponses } },
    },
    async (request) => ({ data: (await listProviders(db, request.admin.organizationId)).map(providerView) }),
  );
  app.get(
    '/providers/:id',
    {
      schema: {
        tags: ['providers'],
        security,
        params: idParams,
        response: { 200: providerSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await getProvider(db, request.admin.organizationId, request.params.id);
      return row ? providerView(row) : reply.code(404).send(notFound('provider'));
    },
  );
  app.patch(
    '/providers/:id',
    {
      schema: {
        tags: ['providers'],
        summary: 'Change a provider credential: rotate its secret, models, base URL or prices',
        security,
        params: idParams,
        body: updateProviderBody(adapters),
        response: { 200: providerSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const existing = await getProvider(db, organizationId, request.params.id);
      if (!existing) return reply.code(404).send(notFound('provider'));
      const adapter = adapterFor(existing.type);
      if (!adapter) {
        return reply.code(400).send(unsupportedProvider(existing.type));
      }
      const split = splitFields(adapter, request.body);
      const { secret, settings, columns } = split;
      const rotated = Object.keys(secret).length > 0;
      // Secret fields not given are kept: rotating AWS keys need not repeat the region's session token.
      const mergedSecret = rotated ? { ...openProviderSecret(box, existing), ...secret } : undefined;
      const mergedSettings = { ...existing.settings, ...settings };
      const standing = {
        baseUrl: 'baseUrl' in columns ? (columns.baseUrl as string | null) : existing.baseUrl,
        settings: mergedSettings,
        secret: mergedSecret ?? openProviderSecret(box, existing),
      };
      const invalid =
        invalidFields(adapter, split) ??
        invalidCredential(adapter, standing) ??
        (await refusedUrl(options.outbound, adapter, {
          ...standing,
          baseUrl: standing.baseUrl ?? undefined,
        }));
      if (invalid) return reply.code(400).send(adminError('invalid_request', invalid));
      const updated = await nameChecked(
        db.transaction(async (tx) => {
          if (typeof columns.name === 'string') {
            await assertNameFree(tx, 'provider', organizationId, columns.name, existing.id);
          }
          return updateProvider(tx, box, organizationId, existing.id, {
            ...columns,
            settings: Object.keys(settings).length > 0 ? mergedSettings : undefined,
            secret: mergedSecret,
          });
        }),
      );
      if ('conflict' in updated) return reply.code(409).send(updated.conflict);
      if (!updated.value) return reply.code(404).send(notFound('provider'));
      options.onPolicyChange();
      return providerView(updated.value);
    },
  );
  app.delete(
    '/providers/:id',
    {
      schema: {
        tags: ['providers'],
        summary: 'Delete a provider credential no routing policy, budget or rate limit names',
        security,
        params: idParams,
        response: { 204: deletedResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const providerId = request.params.id;
      const outcome = await db.transaction(async (tx) => {
        const users = [
          {
            kind: 'routing policies',
            ids: (await policiesUsingProvider(tx, organizationId, providerId)).map((row) => row.id),
          },
          {
            kind: 'budgets',
            ids: (await budgetsReferencing(tx, organizationId, { providerId })).map((row) => row.id),
          },
          {
            kind: 'rate limits',
            ids: (
              await rateLimitsReferencing(tx, organizationId, { scope: 'provider', scopeId: providerId })
            ).map((row) => row.id),
          },
        ];
        if (anyUsers(users)) return { users };
        return { deleted: await deleteProvider(tx, organizationId, providerId) };
      });
      if (outcome.users) return reply.code(409).send(inUse('provider', outcome.users));
      if (!outcome.deleted) return reply.code(404).send(notFound('provider'));
      options.onPolicyChange();
      return reply.code(204).send(null);
    },
  );
}

function providerView(row: ProviderRow) {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    baseUrl: row.baseUrl,
    hasApiKey: row.secretCiphertext !== null,
    forwardIdentity: row.forwardIdentity,
    settings: row.settings,
    models: row.models ?? null,
    priceOverrides: row.priceOverrides,
    defaultPrice: row.defaultPrice ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
