/** The scopes one call counts against, e.g. its key, person, project, team and organisation. */
export interface ScopeRef<Scope extends string> {
  scope: Scope;
  scopeId: string;
}

type Loader<Row, Scope extends string> = (
  organizationId: string,
  scopes: ScopeRef<Scope>[],
) => Promise<Row[]>;

/**
 * Rows that apply to a set of scopes (budgets, rate limits), kept in memory: every call needs
 * them and they change rarely. A change clears the cache (through the change feed); entries also
 * expire as a safety net, and a failed read is not remembered.
 */
export class ScopedRowsCache<Row, Scope extends string> {
  readonly #load: Loader<Row, Scope>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { rows: Promise<Row[]>; loadedAt: number }>();

  constructor(load: Loader<Row, Scope>, options: { ttlMs: number; now?: () => number }) {
    this.#load = load;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  rowsFor(organizationId: string, scopes: ScopeRef<Scope>[]): Promise<Row[]> {
    const key = `${organizationId}|${scopes.map((entry) => `${entry.scope}:${entry.scopeId}`).join('|')}`;
    const now = this.#now();
    const cached = this.#entries.get(key);
    if (cached && now - cached.loadedAt < this.#ttlMs) return cached.rows;
    const rows = this.#load(organizationId, scopes);
    rows.catch(() => this.#entries.delete(key));
    if (this.#entries.size >= 100_000) this.#entries.clear();
    this.#entries.set(key, { rows, loadedAt: now });
    return rows;
  }

  clear(): void {
    this.#entries.clear();
  }
}
