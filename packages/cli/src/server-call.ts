import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { text } from 'node:stream/consumers';
import { CliError, ExitCode } from './ui.js';

/**
 * The one way the CLI calls a Gatehouse server. Every call, sign-in, self views and the admin API
 * alike, gets the same deadline and the same answer when the server cannot be reached (exit code
 * 5, "server unreachable"), so no command can hang on a dead network or fail with a stack trace.
 *
 * It is `node:http`, not `fetch`: Node 20's fetch parses answers with a WebAssembly build of
 * llhttp that each new process compiles, and the compile (finished in the background, which the
 * process waits for at exit) costs about 200 ms. That is most of a `gatehouse admin` command's
 * time, and tools call `gatehouse token` on every key refresh. `node:http` uses the native parser.
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
  /** The deadline, when it is not SERVER_TIMEOUT_MS. */
  timeoutMs?: number;
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
  const method = call.method ?? (body === undefined ? 'GET' : 'POST');
  // One deadline from connecting to the last byte: a server that sends headers and then
  // stalls or drops the connection is as unreachable as one that never answers.
  const signal = AbortSignal.timeout(call.timeoutMs ?? SERVER_TIMEOUT_MS);
  let status: number;
  let answer: string;
  let location: string | undefined;
  try {
    const response = await send(new URL(url), { method, headers, body, signal });
    answer = await text(response);
    if (!response.complete) throw new Error('the answer broke off');
    status = response.statusCode ?? 0;
    location = response.headers.location;
  } catch (error) {
    throw unreachable(url, signal.aborted ? 'timed out' : reasonOf(error));
  }
  // Not followed: a bearer token should go only where the person pointed the CLI.
  if (status >= 300 && status < 400 && location !== undefined) {
    throw new CliError(
      `${new URL(url).origin} redirects to ${URL.canParse(location, url) ? new URL(location, url).origin : location}: use that address as the server (gatehouse login --server …).`,
      ExitCode.serverUnavailable,
    );
  }
  const parsed = parseJson(answer);
  return { status, ok: status >= 200 && status < 300, body: parsed?.value, isJson: parsed !== undefined };
}

interface Outgoing {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal;
}

/** Sends one request and resolves with the answer's head; the body is still to be read. */
function send(url: URL, outgoing: Outgoing): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const sent = request(url, {
      method: outgoing.method,
      headers: outgoing.headers,
      signal: outgoing.signal,
    });
    sent.once('response', resolve);
    // Kept for the request's whole life: an error after the answer began is the body's to report.
    sent.on('error', reject);
    sent.end(outgoing.body);
  });
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

function unreachable(url: string, reason: string): CliError {
  return new CliError(`Cannot reach ${new URL(url).origin}: ${reason}`, ExitCode.serverUnavailable);
}

/** What went wrong, in words a person can act on: "connect ECONNREFUSED 127.0.0.1:4000", … */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
