import type { Command } from 'commander';
import type { AdminContext } from './context.js';

/** `gatehouse admin usage`: calls, tokens and cost, grouped and filtered. */
export function registerUsage(admin: Command, context: AdminContext): void {
  admin
    .command('usage')
    .description('Calls, tokens and spend, grouped')
    .option('--group-by <group>', 'principal | project | team | key | model | provider', 'model')
    .option('--from <iso>', 'inclusive start')
    .option('--to <iso>', 'exclusive end')
    .option('--key <id>', 'only this virtual key')
    .option('--user <id>', 'only this principal (user, or service key)')
    .option('--project <id>')
    .option('--team <id>')
    .option('--model <model>')
    .option('--provider <id>')
    .option('--status <status>', 'served | refused | errors')
    .action(async (flags: Record<string, string | undefined>) => {
      const parameters: Record<string, string | undefined> = {
        groupBy: flags.groupBy,
        from: flags.from,
        to: flags.to,
        keyId: flags.key,
        principalId: flags.user,
        projectId: flags.project,
        teamId: flags.team,
        model: flags.model,
        providerId: flags.provider,
        status: flags.status,
      };
      const query = new URLSearchParams(
        Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] !== undefined),
      );
      context.show(await context.call('GET', `/usage?${query}`), [
        'group',
        'requests',
        'refused',
        'errors',
        'inputTokens',
        'outputTokens',
        'costUsd',
      ]);
    });
}
