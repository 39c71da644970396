#!/usr/bin/env node
// The installed `gatehouse` command. It is a committed file rather than the compiled
// dist/bin.js so that npm can link it when it installs: in a fresh clone `npm ci` links
// workspace commands before `prepare` builds dist/, and it skips a command whose file is missing.
try {
  await import('../dist/bin.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/bin.js')) throw error;
  process.stderr.write('gatehouse is not built yet: run npm run build (npm ci does it too)\n');
  process.exitCode = 1;
}
