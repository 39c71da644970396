import type { RateLimitRow } from '../store/rate-limits.js';
import type { RateLimitScope } from '../store/schema.js';

type Loader = (
  organizationId: string,
  scopes: { scope: RateLimitScope; scopeId: string }[],
) => Promise<RateLimitRow[]>;

/**
 * The rate limits each call is checked against, kept in memory: every call needs them, and they
 * change rarely. A rate-limit change clears the cache; entries also expire as a safety net.
 */
export class RateLimitCache {
  readonly #load: Loader;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { rows: Promise<RateLimitRow[]>; loadedAt: number }>();

  constructor(load: Loader, options: { ttlMs: number; now?: () => number }) {
    this.#load = load;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  limitsFor(
    organizationId: string,
    scopes: { scope: RateLimitScope; scopeId: string }[],
  ): Promise<RateLimitRow[]> {
    const key = `${organizationId}|${scopes.map((entry) => `${entry.scope}:${entry.scopeId}`).join('|')}`;
    const now = this.#now();
    const cached = this.#entries.get(key);
    if (cached && now - cached.loadedAt < this.#ttlMs) return cached.rows;
    const rows = this.#load(organizationId, scopes);
    // A failed read is not remembered: the next call asks the store again.
    rows.catch(() => this.#entries.delete(key));
    if (this.#entries.size >= 100_000) this.#entries.clear();
    this.#entries.set(key, { rows, loadedAt: now });
    return rows;
  }

  clear(): void {
    this.#entries.clear();
  }
}
