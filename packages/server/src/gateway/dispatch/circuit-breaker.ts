/**
 * One breaker per provider credential. After `failureThreshold` consecutive failures (connect
 * errors, timeouts, 429, 5xx) the credential is skipped for `cooldownMs`; then one call is let
 * through, and its outcome closes or re-opens the breaker. This keeps a dead credential from
 * adding its timeout to every request while the chain's others can serve.
 */
export class CircuitBreakers {
  readonly #failureThreshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  readonly #state = new Map<string, { consecutiveFailures: number; openUntil: number }>();

  constructor(options: { failureThreshold?: number; cooldownMs?: number; now?: () => number } = {}) {
    this.#failureThreshold = options.failureThreshold ?? 5;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** Milliseconds until the credential may be tried again; 0 when it may be tried now. */
  blockedFor(credentialId: string): number {
    const state = this.#state.get(credentialId);
    if (!state) return 0;
    return Math.max(0, state.openUntil - this.#now());
  }

  recordSuccess(credentialId: string): void {
    this.#state.delete(credentialId);
  }

  recordFailure(credentialId: string): void {
    const state = this.#state.get(credentialId) ?? { consecutiveFailures: 0, openUntil: 0 };
    state.consecutiveFailures += 1;
    if (state.consecutiveFailures >= this.#failureThreshold) state.openUntil = this.#now() + this.#cooldownMs;
    this.#state.set(credentialId, state);
  }
}
