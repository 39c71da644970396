import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { findKeychain } from './keychain.js';
import { credentialsPath } from './paths.js';

/** What a sign-in leaves on this machine. */
export interface Credentials {
  /** The Gatehouse server's public URL. */
  server: string;
  /** The current personal key and when it stops working. */
  key: string;
  keyExpiresAt: string;
  /** In the file only when no OS keychain holds it. */
  refreshToken?: string;
  /** Where the refresh token is when not here: `keychain:<account>`. */
  refreshTokenRef?: string;
  user?: { id: string; email: string; name: string | null } | null;
  organization?: { id: string; name: string };
  projectId?: string;
  savedAt: string;
}

export async function readCredentials(): Promise<Credentials | undefined> {
  try {
    return JSON.parse(await readFile(credentialsPath(), 'utf8')) as Credentials;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The refresh token, wherever it is kept. */
export async function readRefreshToken(credentials: Credentials): Promise<string | undefined> {
  if (credentials.refreshToken) return credentials.refreshToken;
  const account = credentials.refreshTokenRef?.replace(/^keychain:/, '');
  if (!account) return undefined;
  return (await findKeychain())?.get(account);
}

/**
 * Saves credentials: the refresh token to the keychain when there is one, the rest to
 * `credentials.json` — written to a temporary file (mode 0600 from creation) and renamed over
 * the old one, so a reader never sees half a file and a crash never leaves one.
 */
export async function writeCredentials(
  credentials: Credentials,
  refreshToken: string | undefined,
): Promise<void> {
  const path = credentialsPath();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const saved: Credentials = { ...credentials, savedAt: new Date().toISOString() };
  delete saved.refreshToken;
  delete saved.refreshTokenRef;
  if (refreshToken) {
    const keychain = await findKeychain();
    const account = new URL(credentials.server).host;
    if (keychain) {
      try {
        await keychain.set(account, refreshToken);
        saved.refreshTokenRef = `keychain:${account}`;
      } catch {
        saved.refreshToken = refreshToken;
      }
    } else {
      saved.refreshToken = refreshToken;
    }
  }
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(saved, null, 2)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

export async function deleteCredentials(credentials: Credentials | undefined): Promise<void> {
  const account = credentials?.refreshTokenRef?.replace(/^keychain:/, '');
  if (account) await (await findKeychain())?.delete(account);
  await rm(credentialsPath(), { force: true });
}

/**
 * Runs `work` holding the credentials lock, so several processes (three terminals, a tool's key
 * helper) that all find the key stale refresh it once between them: the first refreshes, the
 * rest re-read and find it fresh. A lock left by a crashed process goes stale after 15 s.
 */
export async function withCredentialsLock<T>(work: () => Promise<T>): Promise<T> {
  const path = credentialsPath();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // proper-lockfile locks an existing path; the directory always exists.
  await writeFile(`${path}.lockable`, '', { flag: 'a', mode: 0o600 });
  const release = await lockfile.lock(`${path}.lockable`, {
    stale: 15_000,
    retries: { retries: 100, minTimeout: 50, maxTimeout: 250, factor: 1.3 },
    realpath: false,
  });
  try {
    return await work();
  } finally {
    await release();
  }
}
