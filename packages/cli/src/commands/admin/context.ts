import { readCredentials } from '../../credentials.js';
import { callAdminApi } from '../../server-api.js';
import { freshCredentials } from '../../session.js';
import { CliError, ExitCode, out, printJson } from '../../ui.js';
import { serverFor } from '../login.js';

/** `gatehouse admin`'s own options: where, as whom, and how to print. */
export interface AdminOptions {
  server?: string;
  token?: string;
  json?: boolean;
}

/** What every `gatehouse admin` subcommand needs: call the API, print its answer. */
export interface AdminContext {
  call(method: string, path: string, body?: unknown): Promise<unknown>;
  /**
   * Rows as aligned columns (people), or the API's JSON (scripts, with --json); `forTable`
   * reshapes the answer for the table only.
   */
  show(result: unknown, columns: string[], forTable?: (result: unknown) => unknown): void;
  /** A one-line confirmation; --json prints only what the API answered. */
  say(message: string): void;
}

type Row = Record<string, unknown>;

export function adminContext(options: () => AdminOptions): AdminContext {
  return {
    async call(method, path, body) {
      const { token = process.env.GATEHOUSE_ADMIN_TOKEN, server } = options();
      if (token) return callAdminApi(await serverFor(server), token, method, path, body);
      // No token: the person's own sign-in, with the roles bound to them on the server.
      const signedIn = await readCredentials();
      if (!signedIn) {
        throw new CliError(
          'Sign in, or give an admin token.',
          ExitCode.notSignedIn,
          'Run: gatehouse login (your own roles apply), or pass --token / set GATEHOUSE_ADMIN_TOKEN.',
        );
      }
      const credentials = await freshCredentials();
      return callAdminApi(
        server ? await serverFor(server) : credentials.server,
        credentials.key,
        method,
        path,
        body,
      );
    },
    show(result, columns, forTable) {
      if (options().json) printJson(result);
      else printTable(forTable ? forTable(result) : result, columns);
    },
    say(message) {
      if (!options().json) out(message);
    },
  };
}

function printTable(result: unknown, columns: string[]): void {
  const rows: Row[] = Array.isArray((result as { data?: unknown })?.data)
    ? (result as { data: Row[] }).data
    : Array.isArray((result as { rows?: unknown })?.rows)
      ? (result as { rows: Row[] }).rows
      : [result as Row];
  const cell = (value: unknown) =>
    value === null || value === undefined ? '' : Array.isArray(value) ? value.join(',') : String(value);
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => cell(row[column]).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((text, index) => text.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  out(line(columns));
  for (const row of rows) out(line(columns.map((column) => cell(row[column]))));
}

/** `a, b,c` → ['a', 'b', 'c']. */
export const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** `/collection/id`, the id escaped. */
export const itemPath = (collection: string, id: string) => `/${collection}/${encodeURIComponent(id)}`;

/**
 * A flag that may clear a field: `none` stands for null. Applied in the action, not as
 * commander's parser: commander turns a parser's null into ''.
 */
export const orNone = (value: string | undefined) => (value === 'none' ? null : value);

/** A whole number, `none` for null, or undefined when the flag was not given. */
export const countOrNone = (value: string | undefined) => {
  if (value === undefined || value === 'none') return value === undefined ? undefined : null;
  const number = Number(value);
  if (!Number.isInteger(number)) throw new CliError(`Not a whole number: ${value}`, ExitCode.usage);
  return number;
};
