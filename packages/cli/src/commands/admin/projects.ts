import type { Command } from 'commander';
import { type AdminContext, itemPath, orNone } from './context.js';

const columns = ['id', 'name', 'isPersonal', 'routingPolicyId', 'teamId'];

/** `gatehouse admin projects`: what keys belong to. */
export function registerProjects(admin: Command, context: AdminContext): void {
  const projects = admin.command('projects').description('Projects');
  projects
    .command('list')
    .description('List projects')
    .action(async () => context.show(await context.call('GET', '/projects'), columns));
  projects
    .command('add')
    .description('Create a project')
    .requiredOption('--name <name>')
    .option('--policy <id>', 'routing policy (default: the default policy)')
    .action(async (flags: { name: string; policy?: string }) =>
      context.show(
        await context.call('POST', '/projects', { name: flags.name, routingPolicyId: flags.policy }),
        ['id', 'name'],
      ),
    );
  projects
    .command('update <id>')
    .description('Rename, or change its policy or team')
    .option('--name <name>')
    .option('--policy <id>', "routing policy; 'none' to inherit the default")
    .option('--team <id>', "team; 'none' for no team")
    .action(async (id: string, flags: { name?: string; policy?: string; team?: string }) => {
      const body = { name: flags.name, routingPolicyId: orNone(flags.policy), teamId: orNone(flags.team) };
      context.show(await context.call('PATCH', itemPath('projects', id), body), columns);
    });
  projects
    .command('delete <id>')
    .description('Delete a project with no live keys')
    .action(async (id: string) => {
      await context.call('DELETE', itemPath('projects', id));
      context.say(`deleted ${id}`);
    });
}
