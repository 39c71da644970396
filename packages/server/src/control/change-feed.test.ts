import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import type { ChangeLog, LoggedChange } from '../store/change-log.js';
import { ChangeFeed, type ChangeFeedProblem, type ChangeKind, parseMessage } from './change-feed.js';
import type { MessageBus } from './postgres-notify-bus.js';

/** One in-memory bus shared by the feeds of a test; `down` makes every publish fail. */
class FakeBus implements MessageBus {
  down = false;
  readonly published: string[] = [];
  readonly #handlers = new Set<(message: string) => void>();
  #reconnect: (() => void)[] = [];

  async publish(_channel: string, message: string): Promise<void> {
    if (this.down) throw new Error('bus down');
    this.published.push(message);
    for (const handler of this.#handlers) handler(message);
  }
  async subscribe(_channel: string, handler: (message: string) => void) {
    this.#handlers.add(handler);
    return async () => {
      this.#handlers.delete(handler);
    };
  }
  onReconnect(listener: () => void): void {
    this.#reconnect.push(listener);
  }
  reconnect(): void {
    this.down = false;
    for (const listener of this.#reconnect) listener();
  }
}

/** The change log in memory; a row can be written with a sequence but not yet visible (committing). */
class FakeLog implements ChangeLog {
  failing = false;
  readonly reads: number[] = [];
  #rows: (LoggedChange & { visible: boolean })[] = [];
  #next = 1;

  async append(kind: string): Promise<number> {
    if (this.failing) throw new Error('database down');
    return this.write(kind);
  }
  /** Another instance's row (or one still committing, with `visible: false`). */
  write(kind: string, options: { visible?: boolean; settled?: boolean } = {}): number {
    const sequence = this.#next++;
    this.#rows.push({ sequence, kind, visible: options.visible ?? true, settled: options.settled ?? false });
    return sequence;
  }
  commit(sequence: number): void {
    for (const row of this.#rows) if (row.sequence === sequence) row.visible = true;
  }
  settleAll(): void {
    for (const row of this.#rows) row.settled = true;
  }
  async latest(): Promise<number> {
    if (this.failing) throw new Error('database down');
    return this.#rows.reduce((highest, row) => Math.max(highest, row.sequence), 0);
  }
  async after(sequence: number, limit: number): Promise<LoggedChange[]> {
    if (this.failing) throw new Error('database down');
    this.reads.push(sequence);
    return this.#rows
      .filter((row) => row.visible && row.sequence > sequence)
      .slice(0, limit)
      .map(({ sequence: rowSequence, kind, settled }) => ({ sequence: rowSequence, kind, settled }));
  }
  async prune(): Promise<number> {
    return 0;
  }
}

function feedOn(bus: FakeBus, log: ChangeLog | undefined) {
  const applied: ChangeKind[] = [];
  const problems: ChangeFeedProblem[] = [];
  const handler = (kind: ChangeKind) => () => {
    applied.push(kind);
  };
  const feed = new ChangeFeed({
    bus,
    log,
    // Long enough never to fire during a test: each test polls explicitly.
    pollMs: 60_000,
    handlers: {
      'keys-and-policies': handler('keys-and-policies'),
      budgets: handler('budgets'),
      'rate-limits': handler('rate-limits'),
    },
    onProblem: (problem) => problems.push(problem),
  });
  return { feed, applied, problems };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the change feed', () => {
  it('applies a change on the instance that announced it at once, and only once', async () => {
    const bus = new FakeBus();
    const log = new FakeLog();
    const own = feedOn(bus, log);
    await own.feed.start();
    own.feed.announce('keys-and-policies');
    expect(own.applied).toEqual(['keys-and-policies']); // synchronously, before any I/O
    await settle();
    expect(bus.published).toEqual(['keys-and-policies#1']);
    await own.feed.pollNow();
    log.settleAll();
    await own.feed.pollNow();
    expect(own.applied).toEqual(['keys-and-policies']); // neither its bus echo nor the log re-applies
    await own.feed.stop();
  });

  it('applies what another instance announced while the bus was down from the log: once, in order', async () => {
    const bus = new FakeBus();
    const log = new FakeLog();
    const first = feedOn(bus, log);
    const second = feedOn(bus, log);
    await first.feed.start();
    await second.feed.start();
    bus.down = true;
    first.feed.announce('budgets');
    first.feed.announce('keys-and-policies');
    first.feed.announce('budgets');
    first.feed.announce('rate-limits');
    await settle();
    expect(second.applied).toEqual([]); // the bus lost them all
    expect(first.problems).toEqual(['bus-publish']); // logged once, not four times

    await second.feed.pollNow();
    expect(second.applied).toEqual(['budgets', 'keys-and-policies', 'rate-limits']);
    await second.feed.pollNow();
    log.settleAll();
    await second.feed.pollNow();
    await second.feed.pollNow();
    expect(second.applied).toEqual(['budgets', 'keys-and-policies', 'rate-limits']);
    // Settled rows move the watermark: the next read starts after them.
    expect(log.reads.at(-1)).toBe(4);
    expect(first.applied).toEqual(['budgets', 'keys-and-policies', 'budgets', 'rate-limits']);
    await first.feed.stop();
    await second.feed.stop();
  });

  it('does not re-apply from the log what the bus already brought', async () => {
    const bus = new FakeBus();
    const log = new FakeLog();
    const first = feedOn(bus, log);
    const second = feedOn(bus, log);
    await first.feed.start();
    await second.feed.start();
    first.feed.announce('rate-limits');
    await settle();
    expect(second.applied).toEqual(['rate-limits']);
    await second.feed.pollNow();
    log.settleAll();
    await second.feed.pollNow();
    expect(second.applied).toEqual(['rate-limits']);
    await first.feed.stop();
    await second.feed.stop();
  });

  it('catches a row that commits after a newer one, without re-applying the newer', async () => {
    const bus = new FakeBus();
    const log = new FakeLog();
    const { feed, applied } = feedOn(bus, log);
    await feed.start();
    const late = log.write('budgets', { visible: false }); // sequence handed out, not yet committed
    log.write('keys-and-policies');
    await feed.pollNow();
    expect(applied).toEqual(['keys-and-policies']);
    log.commit(late);
    await feed.pollNow();
    expect(applied).toEqual(['keys-and-policies', 'budgets']);
    log.settleAll();
    await feed.pollNow();
    expect(applied).toEqual(['keys-and-policies', 'budgets']);
    await feed.stop();
  });

  it('reads the log as soon as the bus reconnects or a message shows a gap', async () => {
    const bus = new FakeBus();
    const log = new FakeLog();
    const first = feedOn(bus, log);
    const second = feedOn(bus, log);
    await first.feed.start();
    await second.feed.start();
    bus.down = true;
    first.feed.announce('budgets');
    await settle();
    bus.reconnect();
    await settle();
    expect(second.applied).toEqual(['budgets']);

    bus.down = true;
    first.feed.announce('rate-limits'); // lost
    await settle();
    bus.down = false;
    first.feed.announce('keys-and-policies'); // arrives, and its sequence skips the lost one
    await settle();
    await settle();
    expect(second.applied).toEqual(['budgets', 'keys-and-policies', 'rate-limits']);
    await first.feed.stop();
    await second.feed.stop();
  });

  it('keeps the bus path when the log cannot be written, and reports it once', async () => {
    const bus = new FakeBus();
    const log = new FakeLog();
    const first = feedOn(bus, log);
    const second = feedOn(bus, log);
    await first.feed.start();
    await second.feed.start();
    log.failing = true;
    first.feed.announce('keys-and-policies');
    first.feed.announce('budgets');
    await settle();
    expect(bus.published).toEqual(['keys-and-policies', 'budgets']);
    expect(second.applied).toEqual(['keys-and-policies', 'budgets']);
    await second.feed.pollNow();
    await second.feed.pollNow();
    expect(first.problems).toEqual(['log-write']);
    expect(second.problems).toEqual(['log-read']);
    log.failing = false;
    await second.feed.pollNow();
    expect(second.applied).toEqual(['keys-and-policies', 'budgets']);
    await first.feed.stop();
    await second.feed.stop();
  });

  it('clears every cache once after starting without the database', async () => {
    const bus = new FakeBus();
    const log = new FakeLog();
    log.write('budgets');
    log.failing = true;
    const { feed, applied } = feedOn(bus, log);
    await feed.start();
    await feed.pollNow();
    expect(applied).toEqual([]);
    log.failing = false;
    await feed.pollNow();
    expect(applied).toEqual(['keys-and-policies', 'budgets', 'rate-limits']);
    await feed.pollNow();
    expect(applied).toHaveLength(3);
    await feed.stop();
  });

  it('uses the bus alone without a log (embedded storage)', async () => {
    const bus = new FakeBus();
    const { feed, applied } = feedOn(bus, undefined);
    await feed.start();
    feed.announce('budgets');
    await settle();
    expect(bus.published).toEqual(['budgets']);
    expect(applied).toEqual(['budgets', 'budgets']); // its own bare echo: harmless, a cache clear
    await feed.pollNow();
    expect(applied).toHaveLength(2);
    await feed.stop();
  });

  it('reads messages with and without a sequence, and ignores anything else', () => {
    expect(parseMessage('budgets#12')).toEqual({ kind: 'budgets', sequence: 12 });
    expect(parseMessage('rate-limits')).toEqual({ kind: 'rate-limits', sequence: undefined });
    expect(parseMessage('budgets#-1')).toBeUndefined();
    expect(parseMessage('budgets#x')).toBeUndefined();
    expect(parseMessage('everything')).toBeUndefined();
  });

  it('polls every GATEHOUSE_CHANGE_POLL_MS: 1 s by default, 50 ms to 60 s', () => {
    expect(loadConfig({}).changePollMs).toBe(1_000);
    expect(loadConfig({ GATEHOUSE_CHANGE_POLL_MS: '250' }).changePollMs).toBe(250);
    for (const bad of ['10', '60001', 'soon']) {
      expect(() => loadConfig({ GATEHOUSE_CHANGE_POLL_MS: bad })).toThrow(ConfigError);
    }
  });
});
