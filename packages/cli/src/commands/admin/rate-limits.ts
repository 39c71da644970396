import type { Command } from 'commander';
import { type AdminContext, countOrNone, itemPath } from './context.js';

const columns = ['id', 'scope', 'scopeId', 'requestsPerMinute', 'tokensPerMinute'];

/** `gatehouse admin rate-limits`: requests and tokens per minute. */
export function registerRateLimits(admin: Command, context: AdminContext): void {
  const limits = admin.command('rate-limits').description('Rate limits');
  limits
    .command('list')
    .description('List rate limits')
    .action(async () => context.show(await context.call('GET', '/rate-limits'), columns));
  limits
    .command('set')
    .description('Set a rate limit on a scope')
    .requiredOption('--scope <scope>', 'key | user | project | provider')
    .requiredOption('--scope-id <id>')
    .option('--rpm <requests>', 'requests per minute', Number)
    .option('--tpm <tokens>', 'tokens per minute', Number)
    .action(async (flags: { scope: string; scopeId: string; rpm?: number; tpm?: number }) => {
      const body = {
        scope: flags.scope,
        scopeId: flags.scopeId,
        requestsPerMinute: flags.rpm,
        tokensPerMinute: flags.tpm,
      };
      context.show(await context.call('POST', '/rate-limits', body), columns);
    });
  limits
    .command('update <id>')
    .description('Change requests or tokens per minute')
    .option('--rpm <requests>', "requests per minute; 'none' for no limit")
    .option('--tpm <tokens>', "tokens per minute; 'none' for no limit")
    .action(async (id: string, flags: { rpm?: string; tpm?: string }) => {
      const body = { requestsPerMinute: countOrNone(flags.rpm), tokensPerMinute: countOrNone(flags.tpm) };
      context.show(await context.call('PATCH', itemPath('rate-limits', id), body), columns);
    });
  limits
    .command('delete <id>')
    .description('Delete a rate limit')
    .action(async (id: string) => {
      await context.call('DELETE', itemPath('rate-limits', id));
      context.say(`deleted ${id}`);
    });
}
