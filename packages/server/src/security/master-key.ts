import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MasterKeySource {
  key: Buffer;
  /** Where the key came from, for the start-up banner (never the key itself). */
  origin: string;
}

/**
 * GATEHOUSE_SECRET_KEY when set. On embedded storage, a key generated once into the data dir
 * (mode 0600) so a first run needs no setup. A shared PostgreSQL means several instances, which
 * must agree on the key, so there it has to be given explicitly.
 */
export function resolveMasterKey(options: {
  configured: Buffer | undefined;
  dataDir: string;
  embedded: boolean;
}): MasterKeySource {
  if (options.configured) return { key: options.configured, origin: 'GATEHOUSE_SECRET_KEY' };
  if (!options.embedded) {
    throw new Error(
      'GATEHOUSE_SECRET_KEY is required with DATABASE_URL: every instance must share it (try: openssl rand -base64 32)',
    );
  }
  const path = join(options.dataDir, 'secret.key');
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
    return { key, origin: path };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { key, origin: `${path} (generated)` };
}
