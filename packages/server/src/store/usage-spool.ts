import { writeSync } from 'node:fs';
import { type FileHandle, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** A sealed file: its lines are all appended, and `release` of its number or above removes it. */
interface Segment {
  number: number;
  file: string;
  /** What it holds, counted as the current file's size is (0 for an earlier run's). */
  bytes: number;
}

/** One group commit: the lines appended while it was open, written and synced together. */
interface Batch {
  lines: string[];
  done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The usage ledger's write-ahead log: an append-only file of JSON lines that holds every usage
 * event before the budget counters are charged for it, so a crash (SIGKILL, power loss) cannot
 * leave a counter charged for a call the ledger never heard of.
 *
 * Syncing each event on its own would cost a disk flush per call; appends instead join the open
 * batch, and one write plus one `fdatasync` commits everything appended since the last commit
 * (group commit, as databases do it). A fast disk syncs in a fraction of a millisecond, so
 * back-to-back syncs would still be about one per call under load, each costing kernel time
 * the gateway's calls compete for; a commit therefore starts no sooner than `commitIntervalMs`
 * after the one before it. An append after a quiet spell commits at once. Nothing waits on the
 * window but the budget settle, which runs after the answer went out. Work runs strictly in
 * order on one queue (commits, truncations, rotations and removals), so none races a write.
 *
 * Once the caller has written every line appended so far to the database, `clear()` empties the
 * file. Under a load that never lets the ledger's queue run empty that moment never comes, so
 * the file is also kept in segments: `seal()` ends the current one once it holds
 * `segmentBytes` (the file is renamed to `<path>.<n>` and a new one started), and `release()`
 * removes the sealed segments once their lines are written. Rotating at every flush would be
 * simpler, but creating and removing a file each time costs the kernel about as much as the
 * flush's insert saves by being whole. What an earlier run left (its segments and its last
 * file) is handed back by `open()` and removed by the first release after it.
 *
 * `sync: false` leaves out the `fdatasync`: a commit is written to the operating system only,
 * which a process crash (SIGKILL) cannot undo but power loss can. That is for a database that
 * is no more durable itself: embedded PGlite runs with fsync off, so a synced spool in front of
 * it would be released the moment the rows reach files that are not synced either.
 */
export class UsageSpool {
  readonly #path: string;
  readonly #commitIntervalMs: number;
  readonly #sync: boolean;
  #handle: FileHandle | undefined;
  /** Files whose lines the caller holds and has not written yet, oldest (lowest number) first. */
  #sealed: Segment[] = [];
  /**
   * The number the next sealed segment's file name takes; the one before it is the mark that
   * releases everything sealed so far (an earlier run's replay file is numbered -1).
   */
  #nextSegment = 0;
  readonly #segmentBytes: number;
  /** How much the current file holds (in UTF-16 units, near enough for a size limit). */
  #currentBytes = 0;
  /** When the last commit started, on the performance clock. */
  #lastCommitAt = Number.NEGATIVE_INFINITY;
  /** The batch still taking lines; undefined once it started writing. */
  #open: Batch | undefined;
  /** The tail of the work queue. */
  #queue: Promise<void> = Promise.resolve();
  #last: Promise<void> = Promise.resolve();

  constructor(
    path: string,
    options: { commitIntervalMs?: number; sync?: boolean; segmentBytes?: number } = {},
  ) {
    this.#segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.#path = path;
    this.#commitIntervalMs = options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
    this.#sync = options.sync ?? true;
  }

  get path(): string {
    return this.#path;
  }

  /**
   * Opens a fresh file. Returns the lines an earlier run left, oldest first; their files count
   * as sealed, so the first release after the caller wrote those lines removes them.
   */
  async open(): Promise<string[]> {
    const left = await this.#leftFiles();
    // The last file an earlier run wrote becomes a segment of its own, so it is never appended
    // to: a line a crash tore at its end must not run into the next one.
    if (left.active) {
      const segment = this.#newSegment();
      await rename(this.#path, segment.file);
      left.segments.push(segment);
    }
    this.#handle = await open(this.#path, 'a', 0o600);
    await this.#syncFolder();
    this.#sealed = left.segments;
    let lines: string[] = [];
    for (const { file } of left.segments)
      lines = lines.concat((await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== ''));
    return lines;
  }

  /** Adds a line; resolves once it is on disk, with every line that joined the same batch. */
  append(line: string): Promise<void> {
    let batch = this.#open;
    if (!batch) {
      batch = newBatch();
      this.#open = batch;
      const committing = batch;
      // Alone, a call waits for one sync and no more; under load, every call finishing while
      // the previous sync or its window is under way joins the next one.
      this.#enqueue(() => this.#commit(committing));
      this.#last = batch.done;
    }
    batch.lines.push(line);
    this.#currentBytes += line.length + 1;
    return batch.done;
  }

  /** Resolves once everything appended so far is on disk (or failed to get there). */
  durable(): Promise<void> {
    return this.#last;
  }

  /**
   * Ends the current segment once it holds `segmentBytes`: every line appended before this call
   * is then in a sealed file, and every later one in the next. Returns the mark that releases
   * every segment sealed so far.
   */
  seal(): number {
    if (this.#currentBytes >= this.#segmentBytes) {
      // A later append opens a new batch, committed after the rotation.
      this.#open = undefined;
      const segment = this.#newSegment(this.#currentBytes);
      this.#currentBytes = 0;
      this.#sealed.push(segment);
      // A rotation that fails leaves its lines in the current file (see #rotate).
      void this.#enqueue(() => this.#rotate(segment)).catch(() => {});
    }
    return this.#nextSegment - 1;
  }

  /** Removes the files sealed up to `mark`, once the caller wrote every line in them. */
  release(mark: number): Promise<void> {
    const count = this.#sealed.findIndex((segment) => segment.number > mark);
    const released = this.#sealed.splice(0, count === -1 ? this.#sealed.length : count);
    return this.#enqueue(async () => {
      for (const { file } of released) await rm(file, { force: true });
    });
  }

  /**
   * Empties the spool once the caller knows every line appended so far reached the database:
   * the sealed segments are removed and the current file truncated. Lines appended after this
   * call are written after the truncation, so none of them is lost.
   */
  clear(): Promise<void> {
    this.#open = undefined;
    const released = this.#sealed.splice(0);
    this.#currentBytes = 0;
    return this.#enqueue(async () => {
      for (const { file } of released) await rm(file, { force: true });
      await this.#handle?.truncate(0);
    });
  }

  /** Waits for queued work, then closes the file. */
  async close(): Promise<void> {
    this.#open = undefined;
    await this.#queue;
    await this.#handle?.close();
    this.#handle = undefined;
  }

  /**
   * Moves the current file aside as a sealed segment and starts a new one. If no new file can be
   * opened, the segment goes back to being the current file: its lines stay there for a later
   * seal, and this segment is dropped from the sealed, so releasing its mark removes nothing
   * that still holds unwritten lines.
   */
  async #rotate(segment: Segment): Promise<void> {
    const sealed = this.#handle;
    if (!sealed) throw new Error('usage spool is not open');
    try {
      await rename(this.#path, segment.file);
      try {
        this.#handle = await open(this.#path, 'a', 0o600);
      } catch (error) {
        await rename(segment.file, this.#path);
        throw error;
      }
    } catch (error) {
      this.#sealed = this.#sealed.filter((candidate) => candidate !== segment);
      this.#currentBytes += segment.bytes;
      throw error;
    }
    await sealed.close();
    await this.#syncFolder();
  }

  /**
   * A synced line is safe from power loss only once its file's name is too: after a rename or
   * a new file, the folder is synced as well (only when commits are).
   */
  async #syncFolder(): Promise<void> {
    if (!this.#sync) return;
    const folder = await open(dirname(this.#path), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }

  /**
   * What an earlier run left, oldest first: a replay file from releases before segments, the
   * sealed segments by number, and whether the last file it wrote is still there.
   */
  async #leftFiles(): Promise<{ segments: Segment[]; active: boolean }> {
    const name = basename(this.#path);
    const folder = dirname(this.#path);
    const entries = await readdir(folder);
    const numbers = entries
      .filter((entry) => entry.startsWith(`${name}.`) && /^\d+$/.test(entry.slice(name.length + 1)))
      .map((entry) => Number(entry.slice(name.length + 1)))
      .sort((a, b) => a - b);
    this.#nextSegment = (numbers.at(-1) ?? -1) + 1;
    const segments = numbers.map((number) => ({ number, file: `${this.#path}.${number}`, bytes: 0 }));
    // Older than every numbered segment, so numbered below them.
    if (entries.includes(`${name}.replaying`))
      segments.unshift({ number: -1, file: join(folder, `${name}.replaying`), bytes: 0 });
    return { segments, active: entries.includes(name) };
  }

  #newSegment(bytes = 0): Segment {
    const number = this.#nextSegment++;
    return { number, file: `${this.#path}.${number}`, bytes };
  }

  async #commit(batch: Batch): Promise<void> {
    // The batch stays open through the window, so what arrives meanwhile joins it.
    const wait = this.#lastCommitAt + this.#commitIntervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    this.#lastCommitAt = performance.now();
    if (this.#open === batch) this.#open = undefined;
    try {
      const handle = this.#handle;
      if (!handle) throw new Error('usage spool is not open');
      // The write only copies into the page cache, so it runs here; the sync waits for the disk
      // on libuv's thread pool. One pool hop instead of two: on a busy host each costs a wakeup.
      writeSync(handle.fd, `${batch.lines.join('\n')}\n`);
      if (this.#sync) await handle.datasync();
      batch.resolve();
    } catch (error) {
      batch.reject(error);
    }
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(work);
    // The queue goes on after a failure; the failure is the work's own caller's to see.
    this.#queue = run.catch(() => {});
    return run;
  }
}

/**
 * At most 100 syncs a second: a busy gateway's settles wait at most this long more, and a disk
 * that syncs in 0.3 ms spends at most 3 % of its time on the spool instead of all of it.
 */
const DEFAULT_COMMIT_INTERVAL_MS = 10;

/** About 2,000 usage events: a few seconds of a busy gateway, and a second's replay at most. */
const DEFAULT_SEGMENT_BYTES = 1024 * 1024;

function newBatch(): Batch {
  let resolve: () => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const done = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  // A failed sync is reported by whoever awaits it; an unawaited one must not crash the process.
  done.catch(() => {});
  return { lines: [], done, resolve, reject };
}
