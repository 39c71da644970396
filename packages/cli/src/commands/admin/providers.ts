import type { Command } from 'commander';
import { type AdminContext, itemPath, list, orNone } from './context.js';

const columns = ['id', 'name', 'type', 'baseUrl', 'models'];

/** `gatehouse admin providers`: provider credentials (secrets go in, never come out). */
export function registerProviders(admin: Command, context: AdminContext): void {
  const providers = admin.command('providers').description('Provider connections');
  providers
    .command('list')
    .description('List provider connections')
    .action(async () => context.show(await context.call('GET', '/providers'), columns));
  providers
    .command('add')
    .description('Connect a provider credential')
    .requiredOption('--name <name>')
    .requiredOption('--type <type>', 'openai | anthropic | gemini | azure | bedrock | vertex')
    .option('--base-url <url>')
    .option(
      '--api-key <key>',
      'read from GATEHOUSE_PROVIDER_API_KEY when omitted (keeps it out of shell history)',
    )
    .option('--models <ids>', 'comma-separated models (or * patterns) this connection serves')
    .action(
      async (flags: { name: string; type: string; baseUrl?: string; apiKey?: string; models?: string }) => {
        const body = {
          name: flags.name,
          type: flags.type,
          baseUrl: flags.baseUrl,
          apiKey: flags.apiKey ?? process.env.GATEHOUSE_PROVIDER_API_KEY,
          models: flags.models ? list(flags.models) : undefined,
        };
        context.show(await context.call('POST', '/providers', body), ['id', 'name', 'type']);
      },
    );
  providers
    .command('update <id>')
    .description('Rename, rotate the key, or change models or base URL')
    .option('--name <name>')
    .option('--base-url <url>', "new base URL; 'none' for the type's own endpoint")
    .option('--api-key <key>', 'new key (or --rotate-key to read GATEHOUSE_PROVIDER_API_KEY)')
    .option('--rotate-key', 'take the new key from GATEHOUSE_PROVIDER_API_KEY')
    .option('--models <ids>', "comma-separated models; 'none' for the vendor's own")
    .action(
      async (
        id: string,
        flags: {
          name?: string;
          baseUrl?: string;
          apiKey?: string;
          rotateKey?: boolean;
          models?: string;
        },
      ) => {
        const body = {
          name: flags.name,
          baseUrl: orNone(flags.baseUrl),
          apiKey: flags.apiKey ?? (flags.rotateKey ? process.env.GATEHOUSE_PROVIDER_API_KEY : undefined),
          models:
            flags.models === undefined || flags.models === 'none' ? orNone(flags.models) : list(flags.models),
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
