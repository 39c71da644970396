#!/usr/bin/env node
import { Command } from 'commander';
import { ExitCode, printError } from './ui.js';

/**
 * The `gatehouse` command. Command modules are imported only when their command runs, so
 * `gatehouse --help` and the tool wrappers start in milliseconds.
 */

const TOOLS = ['claude', 'codex', 'gemini', 'opencode', 'copilot'] as const;

async function main(argv: string[]): Promise<number> {
  // `gatehouse claude -p "hi" --model x`: everything after the tool's name is the tool's,
  // untouched by our option parsing (its own --help included).
  const first = argv[2];
  if (first && (TOOLS as readonly string[]).includes(first)) {
    try {
      const { runTool } = await import('./commands/run-tool.js');
      return await runTool(first, argv.slice(3));
    } catch (error) {
      return printError(error);
    }
  }

  let exitCode: number = ExitCode.ok;
  const program = new Command()
    .name('gatehouse')
    .description('Sign in with company SSO and run AI coding tools through the Gatehouse gateway.')
    .version('0.1.0')
    .showHelpAfterError('(run gatehouse --help for usage)')
    .exitOverride();
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok · 1 failed · 2 usage · 3 not signed in · 4 budget used up · 5 server unreachable
            127 tool not installed · otherwise the wrapped tool's own exit code
Install or update: npm install -g gatehouse-cli`,
  );

  program
    .command('login')
    .summary('Sign in with your company account')
    .description(
      'Sign in with your company account: a code to approve in any browser (works over SSH), or --web for the browser on this machine',
    )
    .option('--server <url>', 'server URL (default: GATEHOUSE_SERVER, else the last one used)')
    .option('--no-browser', 'do not open a browser; just print the address')
    .option('--web', 'sign in with the browser on this machine (loopback redirect)')
    .action(async (options) => (await import('./commands/login.js')).login(options));
  program
    .command('logout')
    .summary("End this machine's sign-in")
    .description("End this machine's sign-in and revoke its keys")
    .action(async () => (await import('./commands/account.js')).logout());
  program
    .command('whoami')
    .summary('Show who you are signed in as')
    .description('Who you are signed in as: person, organisation, personal project, key expiry')
    .option('--json', 'print JSON')
    .action(async (options) => (await import('./commands/account.js')).whoami(options));
  program
    .command('status')
    .summary('Show your budgets and provider health')
    .description('Your budgets (spent, remaining, reset time) and provider health')
    .option('--json', 'print JSON')
    .action(async (options) => (await import('./commands/account.js')).status(options));
  program
    .command('token')
    .summary('Print a personal key with time left on it')
    .description('Print a personal key with time left on it (for tools’ key helpers)')
    .action(async () => (await import('./commands/account.js')).token());
  for (const tool of TOOLS) {
    program.command(`${tool} [args...]`).description(`Run ${tool} through Gatehouse with your personal key`);
  }
  program
    .command('env <tool>')
    .summary('Print shell exports that point a tool at Gatehouse')
    .description('Print shell exports for a tool (or any OpenAI/Anthropic/Gemini SDK) to use Gatehouse')
    .option('--json', 'print JSON')
    .action(async (tool: string, options) => (await import('./commands/env.js')).env(tool, options));
  program
    .command('cursor')
    .summary('Print the settings to paste into Cursor')
    .description('Print the settings to paste into Cursor')
    .option('--json', 'print JSON')
    .action(async (options) => (await import('./commands/env.js')).cursor(options));
  program
    .command('serve')
    .description('Start the Gatehouse server (needs @gatehouse/server)')
    .action(async () => {
      exitCode = await (await import('./commands/serve.js')).serve();
    });
  if (first === 'admin') {
    (await import('./commands/admin.js')).registerAdmin(program);
  } else {
    program
      .command('admin')
      .summary('Administer Gatehouse (needs an admin token)')
      .description('Administer Gatehouse from the terminal (needs an admin token)');
  }

  try {
    await program.parseAsync(argv);
  } catch (error) {
    const code = (error as { code?: string; exitCode?: number }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return ExitCode.ok;
    if (code?.startsWith('commander.')) return ExitCode.usage;
    return printError(error);
  }
  return exitCode;
}

// `gatehouse --help | head`: a reader that stops early is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});
process.exitCode = await main(process.argv);
