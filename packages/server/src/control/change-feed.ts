import type { MessageBus } from './postgres-notify-bus.js';

/** What changed: each gateway drops the caches that depend on it. */
export type ChangeKind = 'keys-and-policies' | 'budgets' | 'rate-limits';

const CHANNEL = 'changes';

/**
 * Tells every gateway instance that something it caches changed: revocations, policies,
 * providers, budgets. The instance that made the change applies it at once (the very next
 * request sees it); the others hear it on a message bus — Redis pub/sub when the hot state is
 * Redis, PostgreSQL LISTEN/NOTIFY when instances share only the database — and their caches also
 * expire on their own as a safety net.
 */
export class ChangeFeed {
  readonly #bus: MessageBus;
  readonly #handlers: Record<ChangeKind, () => void>;
  readonly #onError: (error: unknown) => void;
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(bus: MessageBus, handlers: Record<ChangeKind, () => void>, onError: (error: unknown) => void) {
    this.#bus = bus;
    this.#handlers = handlers;
    this.#onError = onError;
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#bus.subscribe(CHANNEL, (message) => {
      const handler = this.#handlers[message as ChangeKind];
      if (handler) handler();
    });
  }

  announce(kind: ChangeKind): void {
    this.#handlers[kind]();
    this.#bus.publish(CHANNEL, kind).catch(this.#onError);
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
  }
}
