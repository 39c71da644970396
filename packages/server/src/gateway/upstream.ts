import { type Dispatcher, Pool } from 'undici';
import type { UpstreamRequest } from './providers/types.js';

export interface UpstreamTimeouts {
  connectMs: number;
  headersMs: number;
  /** Longest silence between body chunks. */
  idleMs: number;
}

/**
 * Keep-alive connection pools to the providers, one per origin. Reusing warm connections is
 * most of what keeps the gateway's added latency small.
 */
export class UpstreamClient {
  readonly #pools = new Map<string, Pool>();
  readonly #timeouts: UpstreamTimeouts;

  constructor(timeouts: UpstreamTimeouts) {
    this.#timeouts = timeouts;
  }

  send(request: UpstreamRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    return this.#pool(request.origin).request({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body,
      signal,
      headersTimeout: this.#timeouts.headersMs,
      bodyTimeout: this.#timeouts.idleMs,
    });
  }

  #pool(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: 256,
        connect: { timeout: this.#timeouts.connectMs },
        keepAliveTimeout: 30_000,
      });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
    this.#pools.clear();
  }
}
