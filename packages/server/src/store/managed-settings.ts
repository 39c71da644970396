import { createHash } from 'node:crypto';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database } from './database.js';
import { managedSettings, telemetryRecords } from './schema.js';

export type ManagedSettingsRow = typeof managedSettings.$inferSelect;

/** Sets the organisation's (teamId '') or a team's document; the ETag follows its content. */
export async function putManagedSettings(
  db: Database,
  organizationId: string,
  teamId: string,
  settings: Record<string, unknown>,
): Promise<ManagedSettingsRow> {
  const etag = `"${createHash('sha256').update(JSON.stringify(settings)).digest('base64url').slice(0, 27)}"`;
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
