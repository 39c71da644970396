import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, ExitCode } from '../../ui.js';
import { type AdminContext, itemPath, list, orNone } from './context.js';
import { type ProviderFieldSpec, providerFieldSpecs, providerTypeSpecs } from './provider-fields.js';

const columns = ['id', 'name', 'type', 'baseUrl', 'models'];

/** `projectId` → `project-id`, the flag's spelling. */
function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** `serviceAccountJson` → `GATEHOUSE_PROVIDER_SERVICE_ACCOUNT_JSON`: where a secret may come from instead. */
function secretVariable(field: string): string {
  return `GATEHOUSE_PROVIDER_${kebab(field).replaceAll('-', '_').toUpperCase()}`;
}

/** commander's camelCase key for a flag: `--project-id` → `projectId`, the field's own name. */
function optionKey(field: string): string {
  return kebab(field).replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/** Adds a flag per type-specific field, described by the types that have it. */
function addFieldOptions(command: Command, secretHint: string): Command {
  for (const spec of providerFieldSpecs) {
    const hint = spec.secret ? `; ${secretHint} ${secretVariable(spec.field)}` : '';
    const file = spec.secret || spec.kind === 'json' ? '; @file reads a file' : '';
    command.option(`--${kebab(spec.field)} <value>`, `${spec.description}${file}${hint}`);
  }
  return command;
}

/** A flag's text as the API wants it: `@path` reads a file; numbers, booleans and JSON are parsed. */
function fieldValue(spec: ProviderFieldSpec, text: string): unknown {
  const raw =
    (spec.secret || spec.kind === 'json') && text.startsWith('@')
      ? readFileSync(text.slice(1), 'utf8')
      : text;
  switch (spec.kind) {
    case 'number':
      return Number(raw);
    case 'boolean':
      return raw === 'true';
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new CliError(`--${kebab(spec.field)} must be JSON.`, ExitCode.usage);
      }
    default:
      return raw;
  }
}

/** The type-specific fields the flags (and, for secrets, the environment when asked) give. */
function fieldsFrom(
  flags: Record<string, unknown>,
  secretsFromEnvironment: boolean,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const spec of providerFieldSpecs) {
    const given = flags[optionKey(spec.field)];
    const text =
      typeof given === 'string'
        ? given
        : spec.secret && secretsFromEnvironment
          ? process.env[secretVariable(spec.field)]
          : undefined;
    if (text !== undefined && text !== '') body[spec.field] = fieldValue(spec, text);
  }
  return body;
}

const typeHelp = providerTypeSpecs
  .map((spec) => (spec.required.length > 0 ? `${spec.type} (needs ${spec.required.join(', ')})` : spec.type))
  .join(' | ');

/** `gatehouse admin providers`: provider credentials (secrets go in, never come out). */
export function registerProviders(admin: Command, context: AdminContext): void {
  const providers = admin.command('providers').description('Provider connections');
  providers
    .command('list')
    .description('List provider connections')
    .action(async () => context.show(await context.call('GET', '/providers'), columns));
  addFieldOptions(
    providers
      .command('add')
      .description('Connect a provider credential')
      .requiredOption('--name <name>')
      .requiredOption('--type <type>', typeHelp)
      .option('--base-url <url>')
      .option('--models <ids>', 'comma-separated models (or * patterns) this connection serves'),
    'read from',
  ).action(
    async (
      flags: Record<string, unknown> & { name: string; type: string; baseUrl?: string; models?: string },
    ) => {
      const body = {
        name: flags.name,
        type: flags.type,
        baseUrl: flags.baseUrl,
        models: flags.models ? list(flags.models) : undefined,
        // Secrets left off the command line come from the environment, out of shell history.
        ...fieldsFrom(flags, true),
      };
      context.show(await context.call('POST', '/providers', body), ['id', 'name', 'type']);
    },
  );
  addFieldOptions(
    providers
      .command('update <id>')
      .description('Rename, rotate the key, or change models or base URL')
      .option('--name <name>')
      .option('--base-url <url>', "new base URL; 'none' for the type's own endpoint")
      .option('--rotate-key', 'take the new secrets from the GATEHOUSE_PROVIDER_* variables that are set')
      .option('--models <ids>', "comma-separated models; 'none' for the vendor's own"),
    'with --rotate-key from',
  ).action(
    async (
      id: string,
      flags: Record<string, unknown> & {
        name?: string;
        baseUrl?: string;
        rotateKey?: boolean;
        models?: string;
      },
    ) => {
      const body = {
        name: flags.name,
        baseUrl: orNone(flags.baseUrl),
        models:
          flags.models === undefined || flags.models === 'none' ? orNone(flags.models) : list(flags.models),
        ...fieldsFrom(flags, flags.rotateKey === true),
      };
      context.show(await context.call('PATCH', itemPath('providers', id), body), columns);
    },
  );
  providers
    .command('delete <id>')
    .description('Delete a provider no policy, budget or limit uses')
    .action(async (id: string) => {
      await context.call('DELETE', itemPath('providers', id));
      context.say(`deleted ${id}`);
    });
}
