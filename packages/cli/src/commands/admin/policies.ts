import type { Command } from 'commander';
import { type AdminContext, itemPath, list, orNone } from './context.js';

const columns = ['id', 'name', 'providers', 'allowedModels', 'deniedModels', 'isDefault'];

/** `gatehouse admin policies`: routing policies. */
export function registerPolicies(admin: Command, context: AdminContext): void {
  const policies = admin.command('policies').description('Routing policies');
  policies
    .command('list')
    .description('List routing policies')
    .action(async () => context.show(await context.call('GET', '/routing-policies'), columns));
  policies
    .command('add')
    .description('Publish a routing policy')
    .requiredOption('--name <name>')
    .requiredOption('--providers <ids>', 'comma-separated provider ids, in fallback order')
    .option('--default', 'make it the policy projects without one inherit')
    .action(async (flags: { name: string; providers: string; default?: boolean }) => {
      const body = { name: flags.name, providers: list(flags.providers), isDefault: flags.default ?? false };
      context.show(await context.call('POST', '/routing-policies', body), ['id', 'name', 'isDefault']);
    });
  policies
    .command('update <id>')
    .description('Change providers, model rules or the name')
    .option('--name <name>')
    .option('--providers <ids>', 'comma-separated provider ids, in fallback order')
    .option('--allow <patterns>', "comma-separated models keys may use; 'none' allows all")
    .option('--deny <patterns>', 'comma-separated models refused even when allowed')
    .option('--default', 'make it the default policy')
    .action(
      async (
        id: string,
        flags: { name?: string; providers?: string; allow?: string; deny?: string; default?: boolean },
      ) => {
        const body = {
          name: flags.name,
          providers: flags.providers ? list(flags.providers) : undefined,
          allowedModels:
            flags.allow === undefined || flags.allow === 'none' ? orNone(flags.allow) : list(flags.allow),
          deniedModels: flags.deny === undefined ? undefined : list(flags.deny),
          isDefault: flags.default ? true : undefined,
        };
        context.show(await context.call('PATCH', itemPath('routing-policies', id), body), columns);
      },
    );
  policies
    .command('delete <id>')
    .description('Delete a policy no project uses')
    .action(async (id: string) => {
      await context.call('DELETE', itemPath('routing-policies', id));
      context.say(`deleted ${id}`);
    });
}
