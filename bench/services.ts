/**
 * The two processes every gateway benchmark runs: the mock upstream and a gateway, each a child
 * process on 127.0.0.1 with a fresh embedded data directory. A gateway can be started from
 * another checkout's build, so two builds can be measured side by side (`compare.ts`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningService, startService } from './processes.js';

/** A started gateway, its admin token, and how to stop it and delete its data. */
export interface RunningGateway extends RunningService {
  adminToken: string;
}

export function startMockUpstream(repositoryRoot: string): Promise<RunningService> {
  return startService({
    name: 'mock-upstream',
    args: ['--import', 'tsx', 'packages/server/test/mock-upstream/main.ts'],
    workingDirectory: repositoryRoot,
    environment: { PORT: '0', HOST: '127.0.0.1', MOCK_RECORD: '0' },
    listeningLine: /mock upstream listening on (http:\/\/\S+)/,
    startTimeoutMs: 30_000,
  });
}

/** Starts `checkout`'s built gateway (`packages/cli/dist/bin.js serve`); stopping it deletes its data. */
export async function startGateway(options: {
  name: string;
  checkout: string;
  nodeFlags: string[];
}): Promise<RunningGateway> {
  const dataDirectory = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'));
  const adminToken = randomBytes(24).toString('hex');
  const removeData = () => rm(dataDirectory, { recursive: true, force: true });
  try {
    const gateway = await startService({
      name: options.name,
      args: [...options.nodeFlags, 'packages/cli/dist/bin.js', 'serve'],
      workingDirectory: options.checkout,
      environment: {
        PORT: '0',
        HOST: '127.0.0.1',
        GATEHOUSE_DATA_DIR: dataDirectory,
        GATEHOUSE_ADMIN_TOKEN: adminToken,
        // The mock provider runs on loopback, which is refused unless allowed.
        GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS: '127.0.0.0/8',
        GATEHOUSE_LOG_LEVEL: 'warn',
      },
      listeningLine: /Gatehouse is listening on (http:\/\/\S+)/,
      startTimeoutMs: 60_000,
    });
    return {
      ...gateway,
      adminToken,
      stop: async () => {
        await gateway.stop();
        await removeData();
      },
    };
  } catch (error) {
    await removeData();
    throw error;
  }
}

/** `BENCH_GATEWAY_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` profiles the gateway during a run. */
export function gatewayNodeFlags(): string[] {
  const flags = process.env.BENCH_GATEWAY_NODE_FLAGS;
  return flags ? flags.split(/\s+/).filter(Boolean) : [];
}

/** Undo steps for a benchmark's processes and files. */
export interface Cleanups {
  add(undo: () => Promise<unknown>): void;
  /** Runs every step, newest first; a failing step is reported and the rest still run. */
  run(): Promise<void>;
}

/** Cleanups that also run on Ctrl-C and SIGTERM, saying what they stop, before exiting 130. */
export function cleanUpOnExit(stopping: string): Cleanups {
  const undos: (() => Promise<unknown>)[] = [];
  const run = async (): Promise<void> => {
    while (undos.length > 0) {
      const undo = undos.pop();
      await undo?.().catch((error: unknown) => console.error('cleanup failed:', error));
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping ${stopping}`);
      void run().finally(() => process.exit(130));
    });
  }
  return { add: (undo) => void undos.push(undo), run };
}
