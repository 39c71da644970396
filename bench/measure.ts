/**
 * Load loops built on undici with `process.hrtime.bigint()`: autocannon rounds latency to whole
 * milliseconds, too coarse when the whole request takes a few hundred microseconds.
 */
import { Pool } from 'undici';

/** One HTTP call to replay, already serialised so the loop measures the network, not JSON.stringify. */
export interface RequestShape {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Stop at whichever comes first, so no loop can run away on a slow machine. */
export interface Bounds {
  maxRequests: number;
  maxMilliseconds: number;
}

/** Raw timings of one run, in microseconds; merged across rounds before summarising. */
export interface Samples {
  latencyMicros: number[];
  firstByteMicros: number[];
  completed: number;
  failed: number;
  elapsedMicros: number;
  /** CPU the serving process used over the same time; undefined where it cannot be read. */
  serverCpuMicros: number | undefined;
}

export function emptySamples(): Samples {
  return {
    latencyMicros: [],
    firstByteMicros: [],
    completed: 0,
    failed: 0,
    elapsedMicros: 0,
    serverCpuMicros: 0,
  };
}

export function mergeSamples(into: Samples, from: Samples): void {
  for (const value of from.latencyMicros) into.latencyMicros.push(value);
  for (const value of from.firstByteMicros) into.firstByteMicros.push(value);
  into.completed += from.completed;
  into.failed += from.failed;
  into.elapsedMicros += from.elapsedMicros;
  into.serverCpuMicros =
    into.serverCpuMicros === undefined || from.serverCpuMicros === undefined
      ? undefined
      : into.serverCpuMicros + from.serverCpuMicros;
}

/** A keep-alive connection pool; one per target and concurrency so connections are already open. */
export function openPool(origin: string, connections: number): Pool {
  return new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
}

const nanosToMicros = (nanos: bigint): number => Number(nanos) / 1_000;

/**
 * Sends one request and reads the whole body. First-byte time is taken when the first body chunk
 * arrives (not the headers), which for SSE is the first event the client can act on.
 */
async function timeOneRequest(pool: Pool, shape: RequestShape, samples: Samples): Promise<void> {
  const startedAt = process.hrtime.bigint();
  let firstByteAt: bigint | undefined;
  try {
    const response = await pool.request({
      method: 'POST',
      path: shape.path,
      headers: shape.headers,
      body: shape.body,
    });
    for await (const _chunk of response.body) {
      firstByteAt ??= process.hrtime.bigint();
    }
    if (response.statusCode !== 200) {
      samples.failed += 1;
      return;
    }
  } catch {
    samples.failed += 1;
    return;
  }
  const finishedAt = process.hrtime.bigint();
  samples.completed += 1;
  samples.latencyMicros.push(nanosToMicros(finishedAt - startedAt));
  if (firstByteAt !== undefined) samples.firstByteMicros.push(nanosToMicros(firstByteAt - startedAt));
}

/**
 * Runs `concurrency` workers, each sending requests back to back, until either bound is reached.
 * With concurrency 1 this is the sequential loop the c=1 latency and TTFB figures come from.
 * `serverCpuMicros` reads the serving process's CPU clock, before and after.
 */
export async function runLoad(
  pool: Pool,
  shape: RequestShape,
  concurrency: number,
  bounds: Bounds,
  serverCpuMicros: () => number | undefined = () => undefined,
): Promise<Samples> {
  const samples = emptySamples();
  const cpuBefore = serverCpuMicros();
  const startedAt = process.hrtime.bigint();
  const deadline = startedAt + BigInt(bounds.maxMilliseconds) * 1_000_000n;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < bounds.maxRequests && process.hrtime.bigint() < deadline) {
      started += 1;
      await timeOneRequest(pool, shape, samples);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  samples.elapsedMicros = nanosToMicros(process.hrtime.bigint() - startedAt);
  const cpuAfter = serverCpuMicros();
  samples.serverCpuMicros =
    cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  return samples;
}

export interface Summary {
  requests: number;
  failed: number;
  requestsPerSecond: number;
  p50Micros: number;
  p99Micros: number;
  /** Only for streaming scenarios (undefined when no body bytes were timed). */
  firstByteP50Micros: number | undefined;
  firstByteP99Micros: number | undefined;
  /** CPU time the serving process spent per completed request. */
  cpuMicrosPerRequest: number | undefined;
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sortedAscending: Float64Array, fraction: number): number {
  if (sortedAscending.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sortedAscending.length) - 1;
  return sortedAscending[Math.min(sortedAscending.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

function sorted(values: number[]): Float64Array {
  return Float64Array.from(values).sort();
}

export function summarise(samples: Samples, streaming: boolean): Summary {
  const latency = sorted(samples.latencyMicros);
  const firstByte = streaming ? sorted(samples.firstByteMicros) : undefined;
  return {
    requests: samples.completed,
    failed: samples.failed,
    requestsPerSecond: samples.elapsedMicros > 0 ? (samples.completed * 1e6) / samples.elapsedMicros : 0,
    p50Micros: percentile(latency, 0.5),
    p99Micros: percentile(latency, 0.99),
    firstByteP50Micros: firstByte ? percentile(firstByte, 0.5) : undefined,
    firstByteP99Micros: firstByte ? percentile(firstByte, 0.99) : undefined,
    cpuMicrosPerRequest:
      samples.serverCpuMicros === undefined || samples.completed === 0
        ? undefined
        : samples.serverCpuMicros / samples.completed,
  };
}
