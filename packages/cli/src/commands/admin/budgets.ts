import type { Command } from 'commander';
import { type AdminContext, itemPath } from './context.js';

const columns = [
  'id',
  'name',
  'scope',
  'scopeId',
  'limitUsd',
  'spentUsd',
  'remainingUsd',
  'window',
  'action',
  'resetsAt',
];

/** `gatehouse admin budgets`: spending limits and where they stand. */
export function registerBudgets(admin: Command, context: AdminContext): void {
  const budgets = admin.command('budgets').description('Budgets');
  budgets
    .command('list')
    .description('List budgets with spent and remaining')
    .action(async () => context.show(await context.call('GET', '/budgets'), columns));
  budgets
    .command('set')
    .description('Set a budget on a scope')
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
        context.show(await context.call('POST', '/budgets', body), [
          'id',
          'scope',
          'scopeId',
          'limitUsd',
          'window',
          'action',
        ]);
      },
    );
  budgets
    .command('update <id>')
    .description('Change the limit, window, action or name')
    .option('--limit <usd>', 'limit in US dollars', Number)
    .option('--window <window>', 'day | week | month | total')
    .option('--action <action>', 'block | alert')
    .option('--name <name>')
    .action(
      async (id: string, flags: { limit?: number; window?: string; action?: string; name?: string }) => {
        const body = { limitUsd: flags.limit, window: flags.window, action: flags.action, name: flags.name };
        context.show(await context.call('PATCH', itemPath('budgets', id), body), columns);
      },
    );
  budgets
    .command('delete <id>')
    .description('Delete a budget')
    .action(async (id: string) => {
      await context.call('DELETE', itemPath('budgets', id));
      context.say(`deleted ${id}`);
    });
}
