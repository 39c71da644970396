import { type Command, Option } from 'commander';
import { CliError, ExitCode } from '../../ui.js';
import { type AdminContext, itemPath, list } from './context.js';

const roleColumns = ['id', 'name', 'builtIn', 'permissions'];
const bindingColumns = ['id', 'role', 'subject', 'scope'];
const tokenColumns = ['id', 'name', 'permissions', 'scope', 'expiresAt', 'lastUsedAt', 'revokedAt'];

/** `team:ID` or `project:ID` → the API's scope; none for the whole organisation. */
function scopeOf(value: string | undefined): { kind: string; id?: string } | undefined {
  if (value === undefined || value === 'organization') return undefined;
  const [kind, id] = value.split(':');
  if ((kind !== 'team' && kind !== 'project') || !id) {
    throw new CliError(
      `Not a scope: ${value}`,
      ExitCode.usage,
      'Use team:<id>, project:<id> or organization.',
    );
  }
  return { kind, id };
}

const scopeOption = () =>
  new Option('--scope <scope>', 'where it applies: team:<id>, project:<id> (default: the organisation)');

/** Bindings and tokens print their subject and scope as `kind:id`. */
function flatten(result: unknown): unknown {
  const rows = (result as { data?: Record<string, unknown>[] }).data;
  const flat = (row: Record<string, unknown>) => {
    const text = (value: unknown) => {
      const { kind, id } = (value ?? {}) as { kind?: string; id?: string };
      return id ? `${kind}:${id}` : kind;
    };
    return { ...row, subject: text(row.subject), scope: text(row.scope) };
  };
  return rows ? { data: rows.map(flat) } : flat(result as Record<string, unknown>);
}

/** `gatehouse admin roles | bindings | tokens`: who may do what, and automation's tokens. */
export function registerAccess(admin: Command, context: AdminContext): void {
  const roles = admin.command('roles').description('Built-in and custom roles');
  roles
    .command('list')
    .description('List roles and their permissions')
    .action(async () => context.show(await context.call('GET', '/roles'), roleColumns));
  roles
    .command('add')
    .description('Create a custom role')
    .requiredOption('--name <name>')
    .requiredOption('--permissions <list>', 'comma-separated, e.g. budgets:view,budgets:manage', list)
    .option('--description <text>')
    .action(async (flags: { name: string; permissions: string[]; description?: string }) =>
      context.show(await context.call('POST', '/roles', flags), roleColumns),
    );
  roles
    .command('delete <id>')
    .description('Delete a custom role and its bindings')
    .action(async (id: string) => {
      await context.call('DELETE', itemPath('roles', id));
      context.say(`deleted ${id}`);
    });

  const bindings = admin.command('bindings').description('Who holds which role, where');
  bindings
    .command('list')
    .description('List role bindings')
    .action(async () => context.show(await context.call('GET', '/role-bindings'), bindingColumns, flatten));
  bindings
    .command('add')
    .description('Give a role to a person, a team or an identity-provider group')
    .requiredOption('--role <role>', 'owner, admin, member, viewer, billing or a custom role id')
    .addOption(new Option('--user <id>').conflicts(['team', 'group']))
    .addOption(new Option('--team <id>').conflicts(['group']))
    .option('--group <name>', 'an IdP group, as the groups claim names it')
    .addOption(scopeOption())
    .action(async (flags: { role: string; user?: string; team?: string; group?: string; scope?: string }) => {
      const subject = flags.user
        ? { kind: 'user', id: flags.user }
        : flags.team
          ? { kind: 'team', id: flags.team }
          : flags.group
            ? { kind: 'idpGroup', id: flags.group }
            : undefined;
      if (!subject) throw new CliError('Say who: --user, --team or --group.', ExitCode.usage);
      const body = { role: flags.role, subject, scope: scopeOf(flags.scope) };
      context.show(await context.call('POST', '/role-bindings', body), bindingColumns, flatten);
    });
  bindings
    .command('remove <id>')
    .description('Take a role away')
    .action(async (id: string) => {
      await context.call('DELETE', itemPath('role-bindings', id));
      context.say(`removed ${id}`);
    });

  const tokens = admin.command('tokens').description('Admin tokens for automation');
  tokens
    .command('list')
    .description('List admin tokens with their last use')
    .action(async () => context.show(await context.call('GET', '/tokens'), tokenColumns, flatten));
  tokens
    .command('add')
    .description('Create an admin token (printed once)')
    .requiredOption('--name <name>')
    .option('--permissions <list>', 'comma-separated permissions', list)
    .option('--role <role>', "a built-in role's permissions")
    .addOption(scopeOption())
    .option('--expires-in <seconds>', 'lifetime in seconds', Number)
    .action(
      async (flags: {
        name: string;
        permissions?: string[];
        role?: string;
        scope?: string;
        expiresIn?: number;
      }) => {
        const body = {
          name: flags.name,
          permissions: flags.permissions,
          role: flags.role,
          scope: scopeOf(flags.scope),
          expiresInSeconds: flags.expiresIn,
        };
        context.show(
          await context.call('POST', '/tokens', body),
          ['id', 'token', 'scope', 'expiresAt'],
          flatten,
        );
      },
    );
  tokens
    .command('revoke <id>')
    .description('Revoke an admin token')
    .action(async (id: string) => {
      await context.call('DELETE', itemPath('tokens', id));
      context.say(`revoked ${id}`);
    });
}
