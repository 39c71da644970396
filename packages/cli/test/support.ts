import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI, run as a person runs it: its own process, its own GATEHOUSE_HOME. */
export const CLI = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function scratchHome(): string {
  return mkdtempSync(join(tmpdir(), 'gatehouse-cli-home-'));
}

/** Starts the CLI; `output()` gives what it printed so far, `done` its end. Killed after `timeoutMs`. */
export function startCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { input?: string; timeoutMs?: number } = {},
): { child: ChildProcess; output(): CliRun; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1', GATEHOUSE_NO_BROWSER: '1', GATEHOUSE_KEYCHAIN: 'off', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdin?.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, output: () => ({ code: null, stdout, stderr }), done };
}

export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { input?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return startCli(args, env, options).done;
}

/** Waits (bounded) until the CLI has printed a line matching `pattern`; returns the match. */
export async function waitForOutput(
  run: { output(): CliRun },
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { stdout, stderr } = run.output();
    const match = pattern.exec(`${stdout}\n${stderr}`);
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const { stdout, stderr } = run.output();
  throw new Error(`CLI never printed ${pattern}; stdout: ${stdout}; stderr: ${stderr}`);
}
