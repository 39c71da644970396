import { adminTokenHint, generateAdminToken } from '@gatehouse/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SecretBox } from '../../security/secret-box.js';
import { insertAdminToken } from '../../store/admin-tokens.js';
import type { Database } from '../../store/database.js';
import { createOrganization } from '../../store/organizations.js';
import { type AuditTrail, adminAuditActor } from '../audit/trail.js';
import { BUILT_IN_ROLE_PERMISSIONS } from '../permissions.js';
import { adminError, errorResponses, security } from './replies.js';

/** Long enough to set the organisation's SSO up; short enough that a forgotten one dies. */
const FIRST_OWNER_TOKEN_SECONDS = 7 * 24 * 3600;

const createOrganizationBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    slug: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, {
        message: 'slug must be 2-63 lowercase letters, digits or dashes',
      })
      .describe('A short unique name for URLs and the CLI'),
  })
  .strict();

const createdOrganizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    ownerToken: z
      .object({
        id: z.string(),
        token: z.string().describe('An owner admin token for the new organisation. Shown once'),
        expiresAt: z.string(),
      })
      .describe('To set the organisation up (SSO, a first owner binding) before anyone can sign in'),
  })
  .meta({ id: 'CreatedOrganization' });

/**
 * `POST /api/admin/organizations`: a new organisation in this deployment, made by its operator
 * (the bootstrap token). Nobody can sign in to it yet, so it comes with a week's owner token to
 * connect its identity provider and bind its first owners; every later change is the new
 * organisation's own business, and nothing crosses from one organisation to another.
 */
export function organizationCreationRoutes(
  parent: FastifyInstance,
  options: { db: Database; box: SecretBox; audit: AuditTrail; now(): Date },
): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  app.post(
    '/organizations',
    {
      schema: {
        tags: ['organization'],
        summary: 'Create an organisation (the deployment operator only)',
        security,
        body: createOrganizationBody,
        response: { 201: createdOrganizationSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organization = await createOrganization(options.db, request.body);
      if (!organization) {
        return reply
          .code(409)
          .send(
            adminError('already_exists', `An organisation with slug '${request.body.slug}' already exists.`),
          );
      }
      const token = generateAdminToken();
      const expiresAt = new Date(options.now().getTime() + FIRST_OWNER_TOKEN_SECONDS * 1000);
      const row = await insertAdminToken(options.db, {
        organizationId: organization.id,
        name: 'first owner',
        permissions: [...BUILT_IN_ROLE_PERMISSIONS.owner],
        scope: 'organization',
        scopeId: null,
        tokenHash: options.box.hashToken(token),
        tokenHint: adminTokenHint(token),
        expiresAt,
      });
      // The operator's own organisation records the request (the admin hook); the new one's chain
      // starts with its creation, so its own log says who made it and who was handed the keys.
      await options.audit.record({
        organizationId: organization.id,
        actor: adminAuditActor(request.admin.actor),
        action: 'organization.create',
        target: { type: 'organization', id: organization.id },
        before: null,
        after: { name: organization.name, slug: organization.slug, ownerTokenId: row.id },
        request,
      });
      return reply.code(201).send({
        id: organization.id,
        name: organization.name,
        slug: organization.slug,
        ownerToken: { id: row.id, token, expiresAt: expiresAt.toISOString() },
      });
    },
  );
}
