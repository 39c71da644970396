import { note } from '../ui.js';

/** `gatehouse serve`: the server, when its package is installed beside the CLI. */
export async function serve(): Promise<number> {
  let server: { serve: () => Promise<void> };
  try {
    // A variable specifier: the server is an optional install, not a build-time dependency.
    const serverPackage = '@gatehouse/server';
    server = (await import(serverPackage)) as { serve: () => Promise<void> };
  } catch {
    note('gatehouse serve needs the server package. Install it with:');
    note('  npm install -g @gatehouse/server');
    return 1;
  }
  await server.serve();
  // The server sets the exit code itself (2 for bad settings, 1 when it cannot start).
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
