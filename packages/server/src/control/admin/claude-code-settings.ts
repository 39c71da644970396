import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../store/database.js';
import {
  listManagedSettings,
  type ManagedSettingsRow,
  putManagedSettings,
} from '../../store/managed-settings.js';
import { errorSchema, listOf } from './schemas.js';

const managedSettingsSchema = z
  .object({
    teamId: z.string().nullable().describe('null for the organisation-wide document'),
    settings: z.record(z.string(), z.unknown()),
    etag: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ClaudeCodeSettings' });

const putBody = z
  .object({
    teamId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe("A team's own document; omit for the organisation's"),
    settings: z
      .record(z.string(), z.unknown())
      .describe('A Claude Code settings document (permissions, env, model, …), served at /managed/settings'),
  })
  .strict();

const errors = { 400: errorSchema, 401: errorSchema };
const security = [{ adminToken: [] }];

/** `/api/admin/claude-code-settings`: what Claude Code's own gateway sign-in polls. */
export function claudeCodeSettingsRoutes(parent: FastifyInstance, options: { db: Database }): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const view = (row: ManagedSettingsRow) => ({
    teamId: row.teamId === '' ? null : row.teamId,
    settings: row.settings,
    etag: row.etag,
    updatedAt: row.updatedAt.toISOString(),
  });
  app.put(
    '/claude-code-settings',
    {
      schema: {
        tags: ['claude-code'],
        summary: "Set the organisation's (or a team's) Claude Code managed settings",
        security,
        body: putBody,
        response: { 200: managedSettingsSchema, ...errors },
      },
    },
    async (request) =>
      view(
        await putManagedSettings(
          options.db,
          request.admin.organizationId,
          request.body.teamId ?? '',
          request.body.settings,
        ),
      ),
  );
  app.get(
    '/claude-code-settings',
    {
      schema: {
        tags: ['claude-code'],
        security,
        response: { 200: listOf(managedSettingsSchema), ...errors },
      },
    },
    async (request) => ({
      data: (await listManagedSettings(options.db, request.admin.organizationId)).map(view),
    }),
  );
}
