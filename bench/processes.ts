/**
 * Child processes for the benchmark: the mock upstream and the gateway each get their own process,
 * so the load generator (this process) never shares an event loop with the code it measures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface RunningService {
  name: string;
  /** Base URL parsed from the service's "listening" line, e.g. http://127.0.0.1:40123. */
  url: string;
  /** The child's process id, for reading its CPU time. */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface ServiceSpec {
  name: string;
  args: string[];
  /** Working directory; `--import tsx` is resolved from here. */
  workingDirectory: string;
  environment: Record<string, string>;
  /** Matches the line the service prints once it accepts connections; group 1 is its URL. */
  listeningLine: RegExp;
  startTimeoutMs: number;
}

const STOP_GRACE_MS = 3_000;

/** Starts `node <args>` and resolves once it printed its listening line. */
export async function startService(spec: ServiceSpec): Promise<RunningService> {
  const child = spawn(process.execPath, spec.args, {
    cwd: spec.workingDirectory,
    env: { ...process.env, ...spec.environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = (): Promise<void> => stopChild(child);
  // Warnings and errors from the children stay visible; a crash mid-run should not be silent.
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${spec.name}] ${chunk}`));
  try {
    const url = await waitForListeningLine(child, spec);
    return { name: spec.name, url, pid: child.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function waitForListeningLine(child: ChildProcess, spec: ServiceSpec): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdout = child.stdout;
    if (stdout === null) return reject(new Error(`${spec.name}: no stdout`));
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(
      () => reject(new Error(`${spec.name} did not start within ${spec.startTimeoutMs} ms`)),
      spec.startTimeoutMs,
    );
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${spec.name} exited with code ${code} before it was listening`));
    };
    child.once('exit', onExit);
    lines.on('line', (line) => {
      const match = spec.listeningLine.exec(line);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      // Keep reading stdout to the end so a chatty child never blocks on a full pipe.
      resolve(match[1]);
    });
  });
}

/** SIGTERM, then SIGKILL if the child outlives the grace period. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
