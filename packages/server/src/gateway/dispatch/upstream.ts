import { isIP } from 'node:net';
import { type Dispatcher, Pool } from 'undici';
import { type OutboundNetworks, RefusedAddressError } from '../../security/outbound-networks.js';
import type { UpstreamRequest } from '../providers/types.js';

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
  readonly #networks: OutboundNetworks;
  /** Origins whose host is an IP literal that may not be called (no lookup ever sees those). */
  readonly #refusedLiterals = new Map<string, RefusedAddressError | undefined>();

  constructor(timeouts: UpstreamTimeouts, networks: OutboundNetworks) {
    this.#timeouts = timeouts;
    this.#networks = networks;
  }

  send(request: UpstreamRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const refused = this.#literalRefusal(request.origin);
    if (refused) return Promise.reject(refused);
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
        // Every name is resolved through the outbound rules right before connecting, so a host
        // that resolves to a refused address later (DNS rebinding) is still refused.
        connect: { timeout: this.#timeouts.connectMs, lookup: this.#networks.lookup },
        keepAliveTimeout: 30_000,
      });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  #literalRefusal(origin: string): RefusedAddressError | undefined {
    if (this.#refusedLiterals.has(origin)) return this.#refusedLiterals.get(origin);
    const host = new URL(origin).hostname.replace(/^\[|\]$/g, '');
    const network = isIP(host) ? this.#networks.refusalFor(host) : undefined;
    const refusal = network ? new RefusedAddressError(host, host, network) : undefined;
    if (this.#refusedLiterals.size >= 10_000) this.#refusedLiterals.clear();
    this.#refusedLiterals.set(origin, refusal);
    return refusal;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
    this.#pools.clear();
  }
}
