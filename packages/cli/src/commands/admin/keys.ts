import type { Command } from 'commander';
import { type AdminContext, itemPath } from './context.js';

const columns = ['id', 'name', 'kind', 'projectId', 'hint', 'expiresAt', 'revokedAt'];

/** `gatehouse admin keys`: virtual keys (service keys for production agents). */
export function registerKeys(admin: Command, context: AdminContext): void {
  const keys = admin.command('keys').description('Virtual keys (service keys for production agents)');
  keys
    .command('list')
    .description('List keys (hints only)')
    .option('--project <id>')
    .action(async (flags: { project?: string }) => {
      const query = flags.project ? `?projectId=${encodeURIComponent(flags.project)}` : '';
      context.show(await context.call('GET', `/virtual-keys${query}`), columns);
    });
  keys
    .command('create')
    .description('Create a service key (shown once)')
    .requiredOption('--project <id>')
    .requiredOption('--name <name>')
    .option('--expires-in <seconds>', 'lifetime in seconds', Number)
    .action(async (flags: { project: string; name: string; expiresIn?: number }) => {
      const created = await context.call('POST', '/virtual-keys', {
        projectId: flags.project,
        name: flags.name,
        expiresInSeconds: flags.expiresIn,
      });
      context.show(created, ['id', 'name', 'key']);
      context.say('The key is shown once; store it now.');
    });
  keys
    .command('update <id>')
    .description('Rename a key or change when it expires')
    .option('--name <name>')
    .option('--expires-in <seconds>', 'expire this many seconds from now', Number)
    .option('--expires-at <iso>', "expire at this time; 'never' for no expiry")
    .action(async (id: string, flags: { name?: string; expiresIn?: number; expiresAt?: string }) => {
      const body = {
        name: flags.name,
        expiresInSeconds: flags.expiresIn,
        expiresAt: flags.expiresAt === 'never' ? null : flags.expiresAt,
      };
      context.show(await context.call('PATCH', itemPath('virtual-keys', id), body), columns);
    });
  keys
    .command('revoke <id>')
    .description('Revoke a key, from the very next request')
    .action(async (id: string) => {
      await context.call('DELETE', itemPath('virtual-keys', id));
      context.say(`revoked ${id}`);
    });
}
