import type { ChangeLog } from '../store/change-log.js';
import type { MessageBus } from './postgres-notify-bus.js';

/** What changed: each gateway drops the caches that depend on it. */
export type ChangeKind = 'keys-and-policies' | 'budgets' | 'rate-limits';

const CHANNEL = 'changes';
/** Rows read per poll; more than this many unseen means "clear everything", not "track each". */
const POLL_BATCH = 1_000;
const PRUNE_EVERY_MS = 600_000;

/** Which part of the feed failed, so the owner can log each kind of outage once. */
export type ChangeFeedProblem = 'log-write' | 'log-read' | 'bus-publish';

/** What each problem means for revocations, for the log line. */
export const changeFeedProblems: Record<ChangeFeedProblem, string> = {
  'log-write':
    'change log write failed: other instances hear of this change only over the bus, or when their caches expire',
  'log-read': 'change log unreadable: serving from caches, which still expire on their own',
  'bus-publish': 'change bus publish failed: other instances read the change from the change log',
};

export interface ChangeFeedOptions {
  bus: MessageBus;
  handlers: Record<ChangeKind, () => void>;
  /** The durable log; undefined when one process owns the storage (embedded PGlite). */
  log?: ChangeLog | undefined;
  /** How often the log is read for announcements the bus did not bring. */
  pollMs: number;
  pruneEveryMs?: number;
  /** Called once when a part starts failing, not again until it has worked in between. */
  onProblem: (problem: ChangeFeedProblem, error: unknown) => void;
}

/**
 * Tells every gateway instance that something it caches changed: revocations, policies,
 * providers, budgets, rate limits.
 *
 * - The instance that made the change applies it at once: the very next request sees it.
 * - It then writes a `change_log` row (durable) and publishes `kind#sequence` on the message bus
 *   (Redis pub/sub, or PostgreSQL LISTEN/NOTIFY when instances share only the database): the fast
 *   path, which others apply on receipt.
 * - Every `pollMs` each instance reads the log after the last sequence it has settled and applies
 *   what the bus did not bring (a message lost while Redis was unreachable), so a change reaches
 *   every instance within about one poll interval even across a bus outage; and at once when the
 *   bus says it reconnected, a publish works again after failing, or a message shows a gap.
 * - Each sequence is applied once: the ones applied (locally, from the bus, from the log) are
 *   remembered until the log's watermark passes them. Several missed rows of one kind in a poll
 *   apply that kind once (a cache clear twice in a row is the same as once).
 * - While the database is down nothing is lost either way: the instance serves from its caches,
 *   which still expire on their own (`GATEHOUSE_KEY_CACHE_TTL_MS`).
 */
export class ChangeFeed {
  readonly #options: ChangeFeedOptions;
  readonly #pruneEveryMs: number;
  readonly #applied = new AppliedSequences();
  readonly #notices: Record<ChangeFeedProblem, OutageNotice>;
  #unsubscribe: (() => Promise<void>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #pollAgain = false;
  /** Local appends not yet answered: a poll waits for them, so it never re-applies our own rows. */
  readonly #appending = new Set<Promise<void>>();
  #lastPrune = 0;
  #stopped = false;

  constructor(options: ChangeFeedOptions) {
    this.#options = options;
    this.#pruneEveryMs = options.pruneEveryMs ?? PRUNE_EVERY_MS;
    const notice = (problem: ChangeFeedProblem) =>
      new OutageNotice((error) => options.onProblem(problem, error));
    this.#notices = {
      'log-write': notice('log-write'),
      'log-read': notice('log-read'),
      'bus-publish': notice('bus-publish'),
    };
  }

  async start(): Promise<void> {
    const { bus, log } = this.#options;
    if (log) {
      try {
        this.#applied.settle(await log.latest());
      } catch (error) {
        // Unknown starting point: the first poll that works clears every cache once.
        this.#notices['log-read'].failed(error);
      }
    }
    this.#unsubscribe = await bus.subscribe(CHANNEL, (message) => this.#receive(message));
    bus.onReconnect?.(() => this.pollNow());
    if (log) this.#schedule();
  }

  /** Applies the change here at once, then makes it durable and tells the other instances. */
  announce(kind: ChangeKind): void {
    this.#options.handlers[kind]();
    const { log } = this.#options;
    if (!log) {
      this.#publish(kind);
      return;
    }
    const appending = log.append(kind).then(
      (sequence) => {
        this.#notices['log-write'].succeeded();
        this.#applied.add(sequence);
        this.#publish(`${kind}#${sequence}`);
      },
      (error: unknown) => {
        // Not durable, so the bus is the only path left: send the bare kind.
        this.#notices['log-write'].failed(error);
        this.#publish(kind);
      },
    );
    this.#appending.add(appending);
    void appending.finally(() => this.#appending.delete(appending));
  }

  /** Reads the log now (after a bus reconnect; tests). Resolves when that read is done. */
  pollNow(): Promise<void> {
    if (!this.#options.log || this.#stopped) return Promise.resolve();
    if (this.#polling) {
      this.#pollAgain = true;
      return this.#polling;
    }
    this.#polling = this.#pollLoop().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // Announcements made just before shutdown still reach the log and the bus.
    await Promise.all(this.#appending);
    await this.#polling;
    await this.#unsubscribe?.();
  }

  #publish(message: string): void {
    this.#options.bus.publish(CHANNEL, message).then(
      () => {
        // The bus is back: what it lost meanwhile is in the log, read it now.
        if (this.#notices['bus-publish'].succeeded()) void this.pollNow();
      },
      (error: unknown) => this.#notices['bus-publish'].failed(error),
    );
  }

  #receive(message: string): void {
    const parsed = parseMessage(message);
    if (!parsed) return;
    if (parsed.sequence === undefined) {
      this.#options.handlers[parsed.kind]();
      return;
    }
    const gap = this.#applied.isGap(parsed.sequence);
    if (this.#applied.add(parsed.sequence)) this.#options.handlers[parsed.kind]();
    // A sequence past the next one means messages were lost: read what lies in between.
    if (gap && this.#options.log) void this.pollNow();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.pollNow().finally(() => this.#schedule());
    }, this.#options.pollMs);
    // The poll must not keep a process alive that is otherwise done.
    this.#timer.unref();
  }

  async #pollLoop(): Promise<void> {
    // At most one extra round: a request that came in during a read is served by one more read.
    for (let round = 0; round < 2; round++) {
      this.#pollAgain = false;
      await this.#pollOnce();
      if (!this.#pollAgain || this.#stopped) return;
    }
  }

  async #pollOnce(): Promise<void> {
    const log = this.#options.log as ChangeLog;
    await Promise.all(this.#appending);
    let missed: ChangeKind[];
    try {
      missed = await this.#readMissed(log);
      this.#notices['log-read'].succeeded();
    } catch (error) {
      this.#notices['log-read'].failed(error);
      return;
    }
    for (const kind of missed) this.#options.handlers[kind]();
    if (Date.now() - this.#lastPrune >= this.#pruneEveryMs) {
      this.#lastPrune = Date.now();
      // Every instance prunes now and then; deleting what another already deleted is harmless.
      await log.prune().catch(() => {});
    }
  }

  /** The kinds to apply, in the order of their first unseen row; advances the watermark. */
  async #readMissed(log: ChangeLog): Promise<ChangeKind[]> {
    const watermark = this.#applied.watermark;
    if (watermark === undefined) {
      // Started without the database: whatever changed meanwhile is unknown, so all of it.
      this.#applied.settle(await log.latest());
      return [...KINDS];
    }
    const rows = await log.after(watermark, POLL_BATCH);
    const last = rows.at(-1);
    if (rows.length >= POLL_BATCH && last) {
      this.#applied.settle(last.sequence);
      return [...KINDS];
    }
    const missed: ChangeKind[] = [];
    let settled = watermark;
    let contiguous = true;
    for (const row of rows) {
      if (this.#applied.add(row.sequence) && isKind(row.kind) && !missed.includes(row.kind)) {
        missed.push(row.kind);
      }
      // Only a run of settled rows from the start may move the watermark: past an unsettled row
      // a late commit could still appear.
      contiguous = contiguous && row.settled;
      if (contiguous) settled = row.sequence;
    }
    this.#applied.settle(settled);
    return missed;
  }
}

const KINDS: readonly ChangeKind[] = ['keys-and-policies', 'budgets', 'rate-limits'];

function isKind(value: string): value is ChangeKind {
  return (KINDS as readonly string[]).includes(value);
}

/** `kind#sequence` from a gateway with a change log; a bare `kind` from one without (or older). */
export function parseMessage(
  message: string,
): { kind: ChangeKind; sequence: number | undefined } | undefined {
  const hash = message.lastIndexOf('#');
  const kind = hash === -1 ? message : message.slice(0, hash);
  if (!isKind(kind)) return undefined;
  if (hash === -1) return { kind, sequence: undefined };
  const sequence = Number(message.slice(hash + 1));
  return Number.isSafeInteger(sequence) && sequence > 0 ? { kind, sequence } : undefined;
}

/**
 * The sequences this instance has applied: everything up to the watermark (settled in the log),
 * plus the few above it applied one by one. Bounded by how many rows are younger than the
 * log's settle time.
 */
class AppliedSequences {
  #watermark: number | undefined;
  readonly #above = new Set<number>();
  #highest = 0;

  get watermark(): number | undefined {
    return this.#watermark;
  }

  /** Records `sequence` as applied; false if it already was. */
  add(sequence: number): boolean {
    if (this.#watermark !== undefined && sequence <= this.#watermark) return false;
    if (this.#above.has(sequence)) return false;
    this.#above.add(sequence);
    this.#highest = Math.max(this.#highest, sequence);
    return true;
  }

  /** Whether `sequence` skips past the next one expected (known only once the watermark is). */
  isGap(sequence: number): boolean {
    return this.#watermark !== undefined && sequence > this.#highest + 1;
  }

  settle(watermark: number): void {
    if (this.#watermark !== undefined && watermark <= this.#watermark) return;
    this.#watermark = watermark;
    this.#highest = Math.max(this.#highest, watermark);
    for (const sequence of this.#above) if (sequence <= watermark) this.#above.delete(sequence);
  }
}

/** Reports the first failure of an outage, then stays quiet until something works again. */
class OutageNotice {
  readonly #report: (error: unknown) => void;
  #down = false;

  constructor(report: (error: unknown) => void) {
    this.#report = report;
  }

  failed(error: unknown): void {
    if (this.#down) return;
    this.#down = true;
    this.#report(error);
  }

  /** Whether this ends an outage. */
  succeeded(): boolean {
    const wasDown = this.#down;
    this.#down = false;
    return wasDown;
  }
}
