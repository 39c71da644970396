import { asc, gt, lt, max, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { changeLog } from './schema.js';

/** One row of the change log as the change feed reads it. */
export interface LoggedChange {
  sequence: number;
  kind: string;
  /**
   * Old enough (on the database's clock) that no row with a smaller sequence can still appear:
   * sequences are handed out before commit, so a row committed late may show up behind a newer one.
   */
  settled: boolean;
}

/** The durable side of change announcements, as the change feed needs it. */
export interface ChangeLog {
  /** Records an announcement; resolves with its sequence. */
  append(kind: string): Promise<number>;
  /** The highest sequence written so far (0 when the log is empty). */
  latest(): Promise<number>;
  /** Rows after `sequence`, oldest first, at most `limit`. */
  after(sequence: number, limit: number): Promise<LoggedChange[]>;
  /** Deletes rows older than the retention; resolves with how many went. */
  prune(): Promise<number>;
}

export interface ChangeLogOptions {
  /**
   * How long after being written a row counts as settled. An insert is one short autocommit
   * statement, so a sequence is committed (or abandoned) within milliseconds; 30 s is generous.
   */
  settleMs?: number;
  /**
   * How long rows are kept. Only an instance cut off from the database longer than its key cache
   * lives could need an older row, and by then its caches have expired on their own.
   */
  retentionMs?: number;
}

export const CHANGE_LOG_SETTLE_MS = 30_000;
export const CHANGE_LOG_RETENTION_MS = 3_600_000;

/** The change log in the `change_log` table (PostgreSQL; reads go by its primary key). */
export function createChangeLog(db: Database, options: ChangeLogOptions = {}): ChangeLog {
  const settleSeconds = (options.settleMs ?? CHANGE_LOG_SETTLE_MS) / 1_000;
  const retentionSeconds = (options.retentionMs ?? CHANGE_LOG_RETENTION_MS) / 1_000;
  return {
    async append(kind) {
      const [row] = await db.insert(changeLog).values({ kind }).returning({ sequence: changeLog.sequence });
      if (!row) throw new Error('change log: insert returned no sequence');
      return row.sequence;
    },
    async latest() {
      const [row] = await db.select({ sequence: max(changeLog.sequence) }).from(changeLog);
      // max() of a bigint comes back as text from node-postgres.
      return Number(row?.sequence ?? 0);
    },
    async after(sequence, limit) {
      const rows = await db
        .select({
          sequence: changeLog.sequence,
          kind: changeLog.kind,
          settled: sql<boolean>`${changeLog.createdAt} <= now() - make_interval(secs => ${settleSeconds})`,
        })
        .from(changeLog)
        .where(gt(changeLog.sequence, sequence))
        .orderBy(asc(changeLog.sequence))
        .limit(limit);
      return rows.map((row) => ({
        sequence: Number(row.sequence),
        kind: row.kind,
        settled: row.settled === true,
      }));
    },
    async prune() {
      const removed = await db
        .delete(changeLog)
        .where(lt(changeLog.createdAt, sql`now() - make_interval(secs => ${retentionSeconds})`))
        .returning({ sequence: changeLog.sequence });
      return removed.length;
    },
  };
}
