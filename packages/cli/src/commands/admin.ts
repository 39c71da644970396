import type { Command } from 'commander';
import { printJson } from '../ui.js';
import { registerAccess } from './admin/access.js';
import { registerAudit } from './admin/audit.js';
import { registerBudgets } from './admin/budgets.js';
import { type AdminOptions, adminContext, itemPath } from './admin/context.js';
import { registerKeys } from './admin/keys.js';
import { registerPolicies } from './admin/policies.js';
import { registerProjects } from './admin/projects.js';
import { registerProviders } from './admin/providers.js';
import { registerRateLimits } from './admin/rate-limits.js';
import { registerTeams } from './admin/teams.js';
import { registerUsage } from './admin/usage.js';
import { serverFor } from './login.js';

/**
 * `gatehouse admin …`: the admin API from a terminal, for people and scripts. The caller is an
 * admin bearer token (`--token` or `GATEHOUSE_ADMIN_TOKEN`) or, without one, the person signed in
 * with `gatehouse login`, with the roles bound to them; `--json` prints the API's answer.
 * Each resource's subcommands live in `admin/<resource>.ts`.
 */
export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description(
      'Administer Gatehouse from the terminal (as yourself after gatehouse login, or with an admin token)',
    )
    .option('--server <url>', 'Gatehouse server URL (default: GATEHOUSE_SERVER or the one you signed in to)')
    .option('--token <token>', 'admin bearer token (default: GATEHOUSE_ADMIN_TOKEN, else your own sign-in)')
    .option('--json', 'print the API response as JSON');
  const opts = (): AdminOptions => admin.opts<AdminOptions>();
  const context = adminContext(opts);

  registerProviders(admin, context);
  registerPolicies(admin, context);
  registerProjects(admin, context);
  registerKeys(admin, context);
  registerTeams(admin, context);
  registerBudgets(admin, context);
  registerRateLimits(admin, context);
  registerUsage(admin, context);
  registerAccess(admin, context);
  registerAudit(admin, context, opts);

  const users = admin.command('users').description('People');
  users
    .command('find')
    .description('Find a person by email')
    .requiredOption('--email <email>')
    .action(async (flags: { email: string }) =>
      context.show(await context.call('GET', `/users?email=${encodeURIComponent(flags.email)}`), [
        'id',
        'email',
        'name',
        'teamId',
        'disabledAt',
      ]),
    );
  users
    .command('move <id>')
    .description("Move a person into a team ('none' for no team)")
    .requiredOption('--team <id>')
    .action(async (id: string, flags: { team: string }) =>
      context.show(
        await context.call('PATCH', itemPath('users', id), {
          teamId: flags.team === 'none' ? null : flags.team,
        }),
        ['id', 'email', 'teamId'],
      ),
    );
  users
    .command('revoke-access <id>')
    .description("Revoke every key, CLI sign-in and session of a person's")
    .action(async (id: string) => {
      context.show(await context.call('POST', `${itemPath('users', id)}/revoke-access`), [
        'userId',
        'revokedKeys',
        'revokedGrants',
        'revokedSessions',
      ]);
    });

  admin
    .command('claude-settings')
    .description("Print Claude Code's managed-settings.json for this gateway")
    .action(async () => {
      const server = await serverFor(opts().server);
      // Pushed by device management; it makes plain `claude` sign in to this gateway by itself.
      printJson({ forceLoginMethod: 'gateway', forceLoginGatewayUrl: server });
    });
}
