import type { HotState } from '../../hot-state/types.js';

/**
 * RFC 8628 §5.1: user codes are short enough to guess, so attempts to enter one are limited, and
 * so is asking for device codes (each is a row in the store). Counted across instances in the hot
 * state with the same GCRA as model-call rate limits. Per minute: generous for people, useless
 * for a script.
 */
export const SIGN_IN_LIMITS = {
  /** Device codes one client address may ask for. */
  deviceCodesPerAddress: 30,
  /** User codes one signed-in person may try. */
  codeEntriesPerPerson: 30,
  /** User codes one client address may try, whoever is signed in there. */
  codeEntriesPerAddress: 60,
} as const;

const MINUTE_MS = 60_000;

export class SignInAttemptLimits {
  readonly #hotState: HotState;

  constructor(hotState: HotState) {
    this.#hotState = hotState;
  }

  /** Seconds to wait before asking again, or undefined when this device code request may go on. */
  deviceCode(address: string): Promise<number | undefined> {
    return this.#consume([[`signin:device:${address}`, SIGN_IN_LIMITS.deviceCodesPerAddress]]);
  }

  /** Seconds to wait before trying another user code, or undefined when this try may go on. */
  codeEntry(address: string, userId: string): Promise<number | undefined> {
    return this.#consume([
      [`signin:code:user:${userId}`, SIGN_IN_LIMITS.codeEntriesPerPerson],
      [`signin:code:ip:${address}`, SIGN_IN_LIMITS.codeEntriesPerAddress],
    ]);
  }

  async #consume(limits: Array<[key: string, perMinute: number]>): Promise<number | undefined> {
    const result = await this.#hotState.consumeRate(
      limits.map(([key, limit]) => ({ key, limit, windowMs: MINUTE_MS, cost: 1 })),
    );
    return result.ok ? undefined : Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  }
}
