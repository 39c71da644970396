import { CliError, ExitCode } from './ui.js';

/**
 * The one way the CLI calls a Gatehouse server. Every call, sign-in, self views and the admin API
 * alike, gets the same deadline and the same answer when the server cannot be reached (exit code
 * 5, "server unreachable"), so no command can hang on a dead network or fail with a stack trace.
 */

/**
 * How long one call may take, from connecting to the last byte of the answer. Generous for a
 * slow VPN or a cold server, short enough that a script does not wait forever.
 */
export const SERVER_TIMEOUT_MS = 30_000;

export interface ServerCall {
  method?: string;
  /** Sent as `Authorization: Bearer …`: a personal key or an admin token. */
  bearer?: string;
  /** An `application/x-www-form-urlencoded` body (the OAuth endpoints, RFC 6749). */
  form?: Record<string, string>;
  /** A JSON body (the admin API). */
  json?: unknown;
}

export interface ServerAnswer {
  status: number;
  ok: boolean;
  /** The parsed JSON answer; undefined when it was empty or not JSON (see `isJson`). */
  body: unknown;
  isJson: boolean;
}

export async function callServer(url: string, call: ServerCall = {}): Promise<ServerAnswer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (call.bearer !== undefined) headers.authorization = `Bearer ${call.bearer}`;
  let body: string | undefined;
  if (call.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(call.form).toString();
  } else if (call.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(call.json);
  }
  try {
    const response = await fetch(url, {
      method: call.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal: AbortSignal.timeout(SERVER_TIMEOUT_MS),
    });
    // Read inside the same deadline: a server that sends headers and then stalls or drops the
    // connection is as unreachable as one that never answers.
    const text = await response.text();
    const parsed = parseJson(text);
    return { status: response.status, ok: response.ok, body: parsed?.value, isJson: parsed !== undefined };
  } catch (error) {
    throw unreachable(url, error);
  }
}

/** The answer's JSON, or a CliError saying the server answered something else. */
export function jsonOf<T>(answer: ServerAnswer, what: string): T {
  if (!answer.isJson) {
    throw new CliError(
      `${what}: the server answered ${answer.status} with something that is not JSON.`,
      ExitCode.serverUnavailable,
    );
  }
  return answer.body as T;
}

function parseJson(text: string): { value: unknown } | undefined {
  if (text === '') return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

function unreachable(url: string, error: unknown): CliError {
  const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : messageOf(error);
  return new CliError(`Cannot reach ${new URL(url).origin}: ${reason}`, ExitCode.serverUnavailable);
}

/** undici says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, …). */
function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  return cause instanceof Error && cause.message ? `${error.message} (${cause.message})` : error.message;
}
