import { appendFileSync, existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { isRecord } from '@gatehouse/core';
import type { Database } from './database.js';
import { insertUsageRows, type UsageEventRow, usageRowJson } from './usage-events.js';
import { UsageSpool } from './usage-spool.js';

export interface UsageLedgerOptions {
  flushIntervalMs: number;
  /** Rows per INSERT. */
  batchSize?: number;
  /**
   * The write-ahead spool: every event is appended and synced here before its call is charged,
   * and the file is emptied once the database holds everything in it; whatever it still holds
   * at the next start (a crash, an outage at shutdown) is replayed. Undefined disables spooling
   * (tests with throwaway databases).
   */
  spoolPath?: string | undefined;
  /**
   * Whether each spool commit waits for the disk (`fdatasync`), so power loss cannot undo it;
   * true unless the database itself is not synced (embedded PGlite). See UsageSpool.
   */
  spoolSync?: boolean;
  onError?: (error: unknown) => void;
}

/**
 * The append-only usage ledger. Requests hand their event over and move on; events are written
 * in batches off the hot path. Each event is first appended to a local write-ahead spool (group
 * commit: one sync for the events of each commit window), and `durable()` says when, so a budget
 * counter is charged only for what the ledger will have even after a crash. A failed write keeps
 * the events for the next attempt; the spool keeps them across a restart.
 */
export class UsageLedger {
  readonly #db: Database;
  readonly #options: Required<Omit<UsageLedgerOptions, 'spoolPath'>> & { spoolPath: string | undefined };
  /** Events not yet in the database, as the insert's JSON rows (also their spool lines). */
  #pending: string[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #spool: UsageSpool | undefined;

  constructor(db: Database, options: UsageLedgerOptions) {
    this.#db = db;
    this.#options = {
      batchSize: 200,
      spoolSync: true,
      onError: () => {},
      ...options,
      spoolPath: options.spoolPath,
    };
  }

  /** Replays a spool left by an earlier run, then starts the periodic flush. */
  async start(): Promise<void> {
    await this.#replaySpool();
    if (this.#options.spoolPath) {
      this.#spool = new UsageSpool(this.#options.spoolPath, { sync: this.#options.spoolSync });
      await this.#spool.open();
    }
    await this.flush();
    this.#timer = setInterval(() => void this.flush(), this.#options.flushIntervalMs);
    this.#timer.unref();
  }

  /** Takes the event; the promise says when it is in the spool (at once without one). */
  record(event: UsageEventRow): Promise<void> {
    // Serialised once: the same text is the spool's line and the insert's row.
    const row = usageRowJson(event);
    this.#pending.push(row);
    const durable = this.#spool ? this.#spool.append(row) : Promise.resolve();
    if (this.#pending.length >= this.#options.batchSize) void this.flush();
    return durable;
  }

  /**
   * Resolves once every event recorded so far is on disk in the spool, so a crash from then on
   * loses none of them; rejects when the spool could not be written (the events are still
   * pending for the database).
   */
  durable(): Promise<void> {
    return this.#spool?.durable() ?? Promise.resolve();
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Writes everything pending; concurrent callers share one flush. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      // Let requests run between batches: embedded PGlite works on this thread.
      await new Promise((resolve) => setImmediate(resolve));
      const batch = this.#pending.splice(0, this.#options.batchSize);
      try {
        await insertUsageRows(this.#db, batch);
      } catch (error) {
        // Put the batch back in front; request ids make the retry idempotent.
        this.#pending.unshift(...batch);
        this.#options.onError(error);
        return;
      }
    }
    // Everything recorded so far is in the database: the spool's lines are no longer needed.
    await this.#spool?.truncate().catch((error: unknown) => this.#options.onError(error));
    this.#dropReplayed();
  }

  /** Stops the timer and writes what it can; the spool already holds the rest for the next start. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
    await this.#spool?.close();
    this.#spool = undefined;
    if (this.#options.spoolPath) this.#pending = [];
  }

  /** The file an earlier run's spool is replayed from, gone once its events are written. */
  #dropReplayed(): void {
    const path = this.#options.spoolPath;
    if (path && this.#pending.length === 0 && existsSync(`${path}.replaying`))
      unlinkSync(`${path}.replaying`);
  }

  async #replaySpool(): Promise<void> {
    const path = this.#options.spoolPath;
    if (!path) return;
    // Move the spool aside first, so events spooled while replaying land in a new file; a replay
    // left over from a crash is read again (request ids make a second insert a no-op).
    const replaying = `${path}.replaying`;
    if (existsSync(path)) {
      if (existsSync(replaying)) {
        appendFileSync(replaying, readFileSync(path));
        unlinkSync(path);
      } else {
        renameSync(path, replaying);
      }
    }
    if (!existsSync(replaying)) return;
    const rows = readFileSync(replaying, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .flatMap((line) => this.#replayedRow(line));
    // Written by start()'s flush, once the new spool is open; dropped from disk once written.
    this.#pending.push(...rows);
  }

  /**
   * A spool line as an insert row. Lines are rows already; a spool written before they were
   * (an event keyed by property, `requestId`) is converted, so an upgrade across a crash loses
   * nothing. A line that does not parse was torn by a crash mid-write: its sync never finished,
   * so its call was never charged either, and it is dropped (and reported) rather than stopping
   * the start; so is anything else that is not an event.
   */
  #replayedRow(line: string): string[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      return this.#dropped(line, error);
    }
    if (!isRecord(parsed)) return this.#dropped(line);
    if ('request_id' in parsed) return [line];
    if ('requestId' in parsed) {
      const event = parsed as UsageEventRow & { createdAt: string };
      return [usageRowJson({ ...event, createdAt: new Date(event.createdAt) })];
    }
    return this.#dropped(line);
  }

  #dropped(line: string, cause?: unknown): [] {
    const error = new Error(`usage spool: dropped a line that is no usage event (${line.length} bytes)`, {
      cause,
    });
    this.#options.onError(error);
    return [];
  }
}
