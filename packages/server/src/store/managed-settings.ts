import { createHash } from 'node:crypto';
import { isRecord } from '@gatehouse/core';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database } from './database.js';
import { managedSettings, telemetryRecords } from './schema.js';

export type ManagedSettingsRow = typeof managedSettings.$inferSelect;

/**
 * The document's version as Claude Code computes it: `sha256:` and the hex SHA-256 of its JSON
 * with keys sorted at every level. Claude Code sends its cached copy's checksum back as
 * `If-None-Match`, so the ETag must be exactly this for a 304 to ever happen.
 */
export function settingsChecksum(settings: Record<string, unknown>): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(sortKeys(settings)))
    .digest('hex')}`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys(value[key])]),
    );
  }
  return value;
}

/** Sets the organisation's (teamId '') or a team's document; the ETag is its quoted checksum. */
export async function putManagedSettings(
  db: Database,
  organizationId: string,
  teamId: string,
  settings: Record<string, unknown>,
): Promise<ManagedSettingsRow> {
  const etag = `"${settingsChecksum(settings)}"`;
  const [row] = await db
    .insert(managedSettings)
    .values({ organizationId, teamId, settings, etag })
    .onConflictDoUpdate({
      target: [managedSettings.organizationId, managedSettings.teamId],
      set: { settings, etag, updatedAt: new Date() },
    })
    .returning();
  if (!row) throw new Error('upsert returned no row');
  return row;
}

export async function listManagedSettings(
  db: Database,
  organizationId: string,
): Promise<ManagedSettingsRow[]> {
  return db
    .select()
    .from(managedSettings)
    .where(eq(managedSettings.organizationId, organizationId))
    .orderBy(asc(managedSettings.teamId));
}

/** The team's document when it has one, else the organisation's; undefined when neither exists. */
export async function settingsFor(
  db: Database,
  organizationId: string,
  teamId: string | undefined,
): Promise<ManagedSettingsRow | undefined> {
  const rows = await db
    .select()
    .from(managedSettings)
    .where(
      and(
        eq(managedSettings.organizationId, organizationId),
        inArray(managedSettings.teamId, teamId ? [teamId, ''] : ['']),
      ),
    );
  return rows.find((row) => row.teamId !== '') ?? rows[0];
}

export async function insertTelemetry(
  db: Database,
  record: typeof telemetryRecords.$inferInsert,
): Promise<void> {
  await db.insert(telemetryRecords).values(record);
}
