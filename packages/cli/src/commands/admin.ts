import type { Command } from 'commander';
import { CliError, ExitCode, out, printJson } from '../ui.js';
import { serverFor } from './login.js';

/**
 * `gatehouse admin …`: the admin API from a terminal, for people and scripts. The caller is an
 * admin bearer token (`--token` or `GATEHOUSE_ADMIN_TOKEN`); `--json` prints the API's answer.
 */

interface AdminOptions {
  server?: string;
  token?: string;
  json?: boolean;
}

type Row = Record<string, unknown>;

async function call(options: AdminOptions, method: string, path: string, body?: unknown): Promise<unknown> {
  const token = options.token ?? process.env.GATEHOUSE_ADMIN_TOKEN;
  if (!token) {
    throw new CliError(
      'An admin token is needed.',
      ExitCode.usage,
      'Pass --token or set GATEHOUSE_ADMIN_TOKEN.',
    );
  }
  const server = await serverFor(options.server);
  let response: Response;
  try {
    response = await fetch(`${server}/api/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new CliError(`Cannot reach ${server}: ${(error as Error).message}`, ExitCode.serverUnavailable);
  }
  const text = await response.text();
  const parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
  if (!response.ok) {
    const message =
      (parsed as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${response.status}`;
    throw new CliError(
      `${method} ${path}: ${message}`,
      response.status === 401 ? ExitCode.notSignedIn : ExitCode.failure,
    );
  }
  return parsed;
}

/** Prints rows as aligned columns (people) or the API's JSON (scripts). */
function show(options: AdminOptions, result: unknown, columns: string[]): void {
  if (options.json) {
    printJson(result);
    return;
  }
  const rows: Row[] = Array.isArray((result as { data?: unknown })?.data)
    ? ((result as { data: Row[] }).data ?? [])
    : Array.isArray((result as { rows?: unknown })?.rows)
      ? (result as { rows: Row[] }).rows
      : [result as Row];
  const cell = (value: unknown) =>
    value === null || value === undefined ? '' : Array.isArray(value) ? value.join(',') : String(value);
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => cell(row[column]).length)),
  );
  out(
    columns
      .map((column, index) => column.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  for (const row of rows)
    out(
      columns
        .map((column, index) => cell(row[column]).padEnd(widths[index] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description('Administer Gatehouse from the terminal (needs an admin token)')
    .option('--server <url>', 'Gatehouse server URL (default: GATEHOUSE_SERVER or the one you signed in to)')
    .option('--token <token>', 'admin bearer token (default: GATEHOUSE_ADMIN_TOKEN)')
    .option('--json', 'print the API response as JSON');
  const opts = (): AdminOptions => admin.opts<AdminOptions>();

  const providers = admin.command('providers').description('Provider connections');
  providers
    .command('list')
    .action(async () =>
      show(opts(), await call(opts(), 'GET', '/providers'), ['id', 'name', 'type', 'baseUrl', 'models']),
    );
  providers
    .command('add')
    .requiredOption('--name <name>')
    .requiredOption('--type <type>', 'openai | anthropic | gemini | azure | bedrock | vertex')
    .option('--base-url <url>')
    .option(
      '--api-key <key>',
      'read from GATEHOUSE_PROVIDER_API_KEY when omitted (keeps it out of shell history)',
    )
    .option('--models <ids>', 'comma-separated models this connection serves')
    .action(
      async (flags: { name: string; type: string; baseUrl?: string; apiKey?: string; models?: string }) => {
        const apiKey = flags.apiKey ?? process.env.GATEHOUSE_PROVIDER_API_KEY;
        const body = {
          name: flags.name,
          type: flags.type,
          baseUrl: flags.baseUrl,
          apiKey,
          models: flags.models ? list(flags.models) : undefined,
        };
        show(opts(), await call(opts(), 'POST', '/providers', body), ['id', 'name', 'type']);
      },
    );
  providers.command('delete <id>').action(async (id: string) => {
    await call(opts(), 'DELETE', `/providers/${encodeURIComponent(id)}`);
    if (!opts().json) out(`deleted ${id}`);
  });

  const policies = admin.command('policies').description('Routing policies');
  policies
    .command('list')
    .action(async () =>
      show(opts(), await call(opts(), 'GET', '/routing-policies'), ['id', 'name', 'providers', 'isDefault']),
    );
  policies
    .command('add')
    .requiredOption('--name <name>')
    .requiredOption('--providers <ids>', 'comma-separated provider ids, in fallback order')
    .option('--default', 'make it the policy projects without one inherit')
    .action(async (flags: { name: string; providers: string; default?: boolean }) => {
      const body = { name: flags.name, providers: list(flags.providers), isDefault: flags.default ?? false };
      show(opts(), await call(opts(), 'POST', '/routing-policies', body), ['id', 'name', 'isDefault']);
    });

  const projects = admin.command('projects').description('Projects');
  projects
    .command('list')
    .action(async () =>
      show(opts(), await call(opts(), 'GET', '/projects'), ['id', 'name', 'isPersonal', 'routingPolicyId']),
    );
  projects
    .command('add')
    .requiredOption('--name <name>')
    .option('--policy <id>', 'routing policy (default: the default policy)')
    .action(async (flags: { name: string; policy?: string }) =>
      show(
        opts(),
        await call(opts(), 'POST', '/projects', { name: flags.name, routingPolicyId: flags.policy }),
        ['id', 'name'],
      ),
    );

  const keys = admin.command('keys').description('Virtual keys (service keys for production agents)');
  keys
    .command('list')
    .option('--project <id>')
    .action(async (flags: { project?: string }) =>
      show(
        opts(),
        await call(
          opts(),
          'GET',
          `/virtual-keys${flags.project ? `?projectId=${encodeURIComponent(flags.project)}` : ''}`,
        ),
        ['id', 'name', 'kind', 'projectId', 'keyHint', 'expiresAt', 'revokedAt'],
      ),
    );
  keys
    .command('create')
    .requiredOption('--project <id>')
    .requiredOption('--name <name>')
    .option('--expires-in <seconds>', 'lifetime in seconds', Number)
    .action(async (flags: { project: string; name: string; expiresIn?: number }) => {
      const created = await call(opts(), 'POST', '/virtual-keys', {
        projectId: flags.project,
        name: flags.name,
        expiresInSeconds: flags.expiresIn,
      });
      show(opts(), created, ['id', 'name', 'key']);
      if (!opts().json) out('The key is shown once; store it now.');
    });
  keys.command('revoke <id>').action(async (id: string) => {
    await call(opts(), 'DELETE', `/virtual-keys/${encodeURIComponent(id)}`);
    if (!opts().json) out(`revoked ${id}`);
  });

  const budgets = admin.command('budgets').description('Budgets');
  budgets
    .command('list')
    .action(async () =>
      show(opts(), await call(opts(), 'GET', '/budgets'), [
        'id',
        'name',
        'scope',
        'scopeId',
        'limitUsd',
        'window',
        'action',
      ]),
    );
  budgets
    .command('set')
    .requiredOption('--scope <scope>', 'org | team | project | user | key')
    .requiredOption('--scope-id <id>')
    .requiredOption('--limit <usd>', 'limit in US dollars', Number)
    .requiredOption('--window <window>', 'day | week | month | total')
    .option('--action <action>', 'block | alert', 'block')
    .option('--name <name>')
    .action(
      async (flags: {
        scope: string;
        scopeId: string;
        limit: number;
        window: string;
        action: string;
        name?: string;
      }) => {
        const body = {
          scope: flags.scope,
          scopeId: flags.scopeId,
          limitUsd: flags.limit,
          window: flags.window,
          action: flags.action,
          name: flags.name,
        };
        show(opts(), await call(opts(), 'POST', '/budgets', body), [
          'id',
          'scope',
          'scopeId',
          'limitUsd',
          'window',
          'action',
        ]);
      },
    );
  budgets.command('delete <id>').action(async (id: string) => {
    await call(opts(), 'DELETE', `/budgets/${encodeURIComponent(id)}`);
    if (!opts().json) out(`deleted ${id}`);
  });

  admin
    .command('usage')
    .description('Spend and tokens, grouped')
    .option('--group-by <group>', 'principal | project | key | model', 'principal')
    .option('--from <iso>')
    .option('--to <iso>')
    .action(async (flags: { groupBy: string; from?: string; to?: string }) => {
      const query = new URLSearchParams({ groupBy: flags.groupBy });
      if (flags.from) query.set('from', flags.from);
      if (flags.to) query.set('to', flags.to);
      show(opts(), await call(opts(), 'GET', `/usage?${query}`), [
        'group',
        'requests',
        'inputTokens',
        'outputTokens',
        'costUsd',
      ]);
    });

  const users = admin.command('users').description('People');
  users
    .command('find')
    .requiredOption('--email <email>')
    .action(async (flags: { email: string }) =>
      show(opts(), await call(opts(), 'GET', `/users?email=${encodeURIComponent(flags.email)}`), [
        'id',
        'email',
        'name',
        'teamId',
        'disabledAt',
      ]),
    );
  users
    .command('revoke-access <id>')
    .description("Revoke every key, CLI sign-in and session of a person's")
    .action(async (id: string) => {
      show(opts(), await call(opts(), 'POST', `/users/${encodeURIComponent(id)}/revoke-access`), [
        'userId',
        'revokedKeys',
        'revokedGrants',
        'revokedSessions',
      ]);
    });

  admin
    .command('claude-settings')
    .description("Print /etc/claude-code/managed-settings.json for Claude Code's own gateway sign-in")
    .action(async () => {
      const server = await serverFor(opts().server);
      // Pushed by device management; it makes plain `claude` sign in to this gateway by itself.
      printJson({ forceLoginMethod: 'gateway', forceLoginGatewayUrl: server });
    });
}
