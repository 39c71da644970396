import type { Command } from 'commander';
import { type AdminContext, itemPath } from './context.js';

const columns = ['id', 'name', 'externalId'];

/** `gatehouse admin teams`: groups budgets and policies can target. */
export function registerTeams(admin: Command, context: AdminContext): void {
  const teams = admin.command('teams').description('Teams');
  teams
    .command('list')
    .description('List teams')
    .action(async () => context.show(await context.call('GET', '/teams'), columns));
  teams
    .command('add')
    .description('Create a team')
    .requiredOption('--name <name>')
    .action(async (flags: { name: string }) =>
      context.show(await context.call('POST', '/teams', { name: flags.name }), columns),
    );
  teams
    .command('rename <id>')
    .description('Rename a team')
    .requiredOption('--name <name>')
    .action(async (id: string, flags: { name: string }) =>
      context.show(await context.call('PATCH', itemPath('teams', id), { name: flags.name }), columns),
    );
  teams
    .command('delete <id>')
    .description('Delete a team with no members or projects')
    .action(async (id: string) => {
      await context.call('DELETE', itemPath('teams', id));
      context.say(`deleted ${id}`);
    });
}
