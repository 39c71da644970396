import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The OS keychain, when there is one: macOS `security`, Linux `secret-tool` (libsecret). It
 * holds the refresh token, the one long-lived secret; without a keychain (CI, containers, most
 * SSH sessions) it stays in the 0600 credentials file. `GATEHOUSE_KEYCHAIN=off` forces the file.
 */
export interface Keychain {
  readonly name: string;
  get(account: string): Promise<string | undefined>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<void>;
}

const SERVICE = 'gatehouse';
const TIMEOUT_MS = 5_000;

const macKeychain: Keychain = {
  name: 'macOS Keychain',
  async get(account) {
    try {
      const { stdout } = await run(
        'security',
        ['find-generic-password', '-s', SERVICE, '-a', account, '-w'],
        {
          timeout: TIMEOUT_MS,
        },
      );
      return stdout.trim() || undefined;
    } catch {
      return undefined;
    }
  },
  async set(account, secret) {
    // -U updates an existing item. The secret is an argument: visible to this user's own `ps`
    // only for the call's milliseconds, which `security` offers no way around.
    await run('security', ['add-generic-password', '-U', '-s', SERVICE, '-a', account, '-w', secret], {
      timeout: TIMEOUT_MS,
    });
  },
  async delete(account) {
    await run('security', ['delete-generic-password', '-s', SERVICE, '-a', account], {
      timeout: TIMEOUT_MS,
    }).catch(() => undefined);
  },
};

const secretService: Keychain = {
  name: 'Secret Service',
  async get(account) {
    try {
      const { stdout } = await run('secret-tool', ['lookup', 'service', SERVICE, 'account', account], {
        timeout: TIMEOUT_MS,
      });
      return stdout.trim() || undefined;
    } catch {
      return undefined;
    }
  },
  set(account, secret) {
    // secret-tool reads the secret from stdin, never from its arguments.
    return new Promise((resolve, reject) => {
      const child = execFile(
        'secret-tool',
        ['store', '--label', `Gatehouse (${account})`, 'service', SERVICE, 'account', account],
        { timeout: TIMEOUT_MS },
        (error) => (error ? reject(error) : resolve()),
      );
      child.stdin?.end(secret);
    });
  },
  async delete(account) {
    await run('secret-tool', ['clear', 'service', SERVICE, 'account', account], {
      timeout: TIMEOUT_MS,
    }).catch(() => undefined);
  },
};

/** The keychain to use, or undefined for the credentials file. Probed once per process. */
export async function findKeychain(): Promise<Keychain | undefined> {
  if (process.env.GATEHOUSE_KEYCHAIN === 'off') return undefined;
  if (process.platform === 'darwin') return (await onPath('security')) ? macKeychain : undefined;
  if (process.platform === 'linux') {
    // A Secret Service needs a session bus; over plain SSH there is none and secret-tool hangs.
    if (!process.env.DBUS_SESSION_BUS_ADDRESS) return undefined;
    return (await onPath('secret-tool')) ? secretService : undefined;
  }
  return undefined;
}

async function onPath(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`], { timeout: TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}
