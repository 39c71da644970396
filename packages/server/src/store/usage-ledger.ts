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
   * and each file of it is removed or emptied once the database holds everything in it;
   * whatever it still holds at the next start (a crash, an outage at shutdown) is replayed.
   * Undefined disables spooling (tests with throwaway databases).
   */
  spoolPath?: string | undefined;
  /**
   * Whether each spool commit waits for the disk (`fdatasync`), so power loss cannot undo it;
   * true unless the database itself is not synced (embedded PGlite). See UsageSpool.
   */
  spoolSync?: boolean;
  /** How large a spool file grows, under a load that never empties the queue, before a new one. */
  spoolSegmentBytes?: number | undefined;
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
  readonly #options: Required<Omit<UsageLedgerOptions, 'spoolPath' | 'spoolSegmentBytes'>> &
    Pick<UsageLedgerOptions, 'spoolPath' | 'spoolSegmentBytes'>;
  /** Events not yet in the database, as the insert's JSON rows (also their spool lines). */
  #pending: string[] = [];
  /** How many events the flush under way took and has not written yet. */
  #writing = 0;
  #flushing: Promise<void> | undefined;
  /** A flush asked for while one was under way: it runs once that one ends. */
  #nextFlush: Promise<void> | undefined;
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
    if (this.#options.spoolPath) {
      this.#spool = new UsageSpool(this.#options.spoolPath, {
        sync: this.#options.spoolSync,
        segmentBytes: this.#options.spoolSegmentBytes,
      });
      const left = await this.#spool.open();
      // Request ids make a second insert of a line an earlier run already wrote a no-op. Joined
      // rather than pushed as arguments: after a long outage the lines outnumber a call's.
      this.#pending = this.#pending.concat(left.flatMap((line) => this.#replayedRow(line)));
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

  /** Events not in the database yet, whether a flush holds them or they wait for the next. */
  get pendingCount(): number {
    return this.#pending.length + this.#writing;
  }

  /**
   * Writes everything pending when it is called. A flush under way took what was pending when it
   * began, so a call meanwhile runs one more after it; all calls meanwhile share that one.
   */
  flush(): Promise<void> {
    if (!this.#flushing) {
      this.#flushing = this.#drain().finally(() => {
        this.#flushing = undefined;
      });
      return this.#flushing;
    }
    this.#nextFlush ??= this.#flushing.then(() => {
      this.#nextFlush = undefined;
      return this.flush();
    });
    return this.#nextFlush;
  }

  /**
   * Writes what is pending now, and nothing that arrives meanwhile: chasing every arrival until
   * the queue is empty would, under load, add a small insert after each full one, and on
   * embedded PGlite each statement costs a fixed half millisecond or more of the gateway's own
   * thread. Arrivals wait for the next flush (the timer, or a full batch).
   */
  async #drain(): Promise<void> {
    // Every segment sealed by now (this seals the current file once it is large) holds only
    // events recorded before this moment, each written already or claimed here. The flush claims
    // them at once, so arrivals meanwhile count toward the next full batch rather than starting
    // one more flush right after this one.
    const sealed = this.#spool?.seal();
    const claimed = this.#pending;
    this.#pending = [];
    this.#writing = claimed.length;
    for (let start = 0; start < claimed.length; start += this.#options.batchSize) {
      // Let requests run between batches: embedded PGlite works on this thread.
      await new Promise((resolve) => setImmediate(resolve));
      const batch = claimed.slice(start, start + this.#options.batchSize);
      try {
        await insertUsageRows(this.#db, batch);
        this.#writing = claimed.length - start - batch.length;
      } catch (error) {
        // Put what is left back in front; request ids make the retry idempotent.
        this.#pending = claimed.slice(start).concat(this.#pending);
        this.#writing = 0;
        this.#options.onError(error);
        return;
      }
    }
    // With nothing pending, every line in the spool is in the database; otherwise the sealed
    // segments' lines are.
    if (!this.#spool || sealed === undefined) return;
    const done = this.#pending.length === 0 ? this.#spool.clear() : this.#spool.release(sealed);
    await done.catch((error: unknown) => this.#options.onError(error));
  }

  /** Stops the timer and writes what it can; the spool already holds the rest for the next start. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
    await this.#spool?.close();
    this.#spool = undefined;
    if (this.#options.spoolPath) this.#pending = [];
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
