/**
 * Counts model calls from arrival until they are metered and their budget settled. The client
 * may see its answer end before that bookkeeping has run, so whoever needs every finished call
 * accounted for (a drain on shutdown, a test reading usage) waits for `idle()`.
 */
export class CallsInFlight {
  #count = 0;
  #waiters: (() => void)[] = [];

  get count(): number {
    return this.#count;
  }

  async track<T>(work: () => Promise<T>): Promise<T> {
    this.#count += 1;
    try {
      return await work();
    } finally {
      this.#count -= 1;
      if (this.#count === 0) for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  /** Resolves once no call is in flight (at once when none is). */
  idle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
