#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command()
  .name('gatehouse')
  .description('Sign in with company SSO and run AI coding tools through the Gatehouse gateway.')
  .version('0.1.0');

program
  .command('serve')
  .description('Start the Gatehouse server (control plane and gateway in one process)')
  .action(async () => {
    let server: { serve: () => Promise<void> };
    try {
      // Imported only here so the CLI stays lean for engineers who never run a server.
      // A variable specifier: the server is an optional install, not a build-time dependency.
      const serverPackage = '@gatehouse/server';
      server = (await import(serverPackage)) as { serve: () => Promise<void> };
    } catch {
      process.stderr.write('gatehouse serve needs the server package: npm install -g @gatehouse/server\n');
      process.exitCode = 1;
      return;
    }
    await server.serve();
  });

await program.parseAsync(process.argv);
