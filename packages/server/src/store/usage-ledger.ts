import { appendFileSync, existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Database } from './database.js';
import { insertUsageEvents, type UsageEventRow } from './usage-events.js';

export interface UsageLedgerOptions {
  flushIntervalMs: number;
  /** Rows per INSERT. */
  batchSize?: number;
  /**
   * File that holds events the database could not take (an outage at shutdown), replayed on the
   * next start. Undefined disables spooling (tests with throwaway databases).
   */
  spoolPath?: string | undefined;
  onError?: (error: unknown) => void;
}

/**
 * The append-only usage ledger. Requests hand their event over and move on; events are written
 * in batches off the hot path. A failed write keeps the events for the next attempt, and what is
 * still unwritten at shutdown goes to a local spool file rather than being lost.
 */
export class UsageLedger {
  readonly #db: Database;
  readonly #options: Required<Omit<UsageLedgerOptions, 'spoolPath'>> & { spoolPath: string | undefined };
  #pending: UsageEventRow[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Database, options: UsageLedgerOptions) {
    this.#db = db;
    this.#options = {
      batchSize: 200,
      onError: () => {},
      ...options,
      spoolPath: options.spoolPath,
    };
  }

  /** Replays a spool left by an earlier run, then starts the periodic flush. */
  async start(): Promise<void> {
    await this.#replaySpool();
    this.#timer = setInterval(() => void this.flush(), this.#options.flushIntervalMs);
    this.#timer.unref();
  }

  record(event: UsageEventRow): void {
    this.#pending.push(event);
    if (this.#pending.length >= this.#options.batchSize) void this.flush();
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
        await insertUsageEvents(this.#db, batch);
      } catch (error) {
        // Put the batch back in front; request ids make the retry idempotent.
        this.#pending.unshift(...batch);
        this.#options.onError(error);
        return;
      }
    }
  }

  /** Stops the timer, writes what it can, and spools the rest. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
    if (this.#pending.length > 0 && this.#options.spoolPath) {
      const lines = this.#pending.map((event) => JSON.stringify(event)).join('\n');
      writeFileSync(this.#options.spoolPath, `${lines}\n`, { flag: 'a', mode: 0o600 });
      this.#pending = [];
    }
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
    const events = readFileSync(replaying, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const event = JSON.parse(line) as UsageEventRow & { createdAt: string };
        return { ...event, createdAt: new Date(event.createdAt) };
      });
    this.#pending.push(...events);
    await this.flush();
    if (this.#pending.length === 0) unlinkSync(replaying);
  }
}
