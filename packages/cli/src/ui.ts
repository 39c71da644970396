import { styleText } from 'node:util';

/**
 * How the CLI talks to a person: colour only on a terminal (and never with NO_COLOR), errors on
 * stderr with a hint, and exit codes a script can branch on.
 */

/** Exit codes, documented in the package README. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** Not signed in, or the sign-in ended: run `gatehouse login`. */
  notSignedIn: 3,
  /** A blocking budget has nothing left. */
  budgetExhausted: 4,
  /** The server could not be reached or answered unexpectedly. */
  serverUnavailable: 5,
  /** The tool to run is not installed (the shell's "command not found"). */
  toolMissing: 127,
} as const;

/** An error the person can act on: shown without a stack, with the exit code it maps to. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failure,
    readonly hint?: string,
  ) {
    super(message);
  }
}

type Style = Parameters<typeof styleText>[0];

function colourOn(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
}

export function paint(stream: NodeJS.WriteStream, style: Style, text: string): string {
  return colourOn(stream) ? styleText(style, text) : text;
}

export const out = (line = '') => process.stdout.write(`${line}\n`);
export const note = (line = '') => process.stderr.write(`${line}\n`);

export function printError(error: unknown): number {
  if (error instanceof CliError) {
    note(`${paint(process.stderr, 'red', 'error:')} ${error.message}`);
    if (error.hint) note(paint(process.stderr, 'dim', error.hint));
    return error.exitCode;
  }
  note(`${paint(process.stderr, 'red', 'error:')} ${(error as Error)?.message ?? String(error)}`);
  return ExitCode.failure;
}

/** Prints JSON for scripts. */
export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/**
 * A spinner on a terminal, nothing elsewhere (logs and pipes get the final line only). Loaded
 * lazily so commands that never wait don't pay for it.
 */
export async function withSpinner<T>(text: string, work: () => Promise<T>): Promise<T> {
  if (!process.stderr.isTTY) return work();
  const { default: spinner } = await import('yocto-spinner');
  const running = spinner({ text, stream: process.stderr }).start();
  try {
    const result = await work();
    running.stop();
    return result;
  } catch (error) {
    running.stop();
    throw error;
  }
}
