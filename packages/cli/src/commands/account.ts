import { deleteCredentials, readCredentials, readRefreshToken } from '../credentials.js';
import { CLIENT_ID, discover, getWithKey, oauthPost, type SelfStatus, type WhoAmI } from '../server-api.js';
import { freshCredentials } from '../session.js';
import { CliError, ExitCode, note, out, paint, printJson } from '../ui.js';

/** `gatehouse token`: a key with time left on it, on stdout alone (tools' key helpers read it). */
export async function token(): Promise<void> {
  out((await freshCredentials()).key);
}

/** `gatehouse whoami`: person, organisation, personal project and key expiry, checked with the server. */
export async function whoami(options: { json?: boolean }): Promise<void> {
  const credentials = await freshCredentials();
  const who = await getWithKey<WhoAmI>(credentials.server, '/api/auth/cli/whoami', credentials.key);
  const view = {
    server: credentials.server,
    user: who.user,
    organization: who.organization,
    personalProjectId: who.project.id,
    keyExpiresAt: who.key.expiresAt,
  };
  if (options.json) return printJson(view);
  const bold = (text: string) => paint(process.stdout, 'bold', text);
  out(`${bold(who.user?.email ?? 'unknown')}${who.user?.name ? ` (${who.user.name})` : ''}`);
  out(`  organisation      ${who.organization.name}`);
  out(`  personal project  ${who.project.id}`);
  out(`  server            ${credentials.server}`);
  out(
    `  key expires       ${who.key.expiresAt ? new Date(who.key.expiresAt).toLocaleString() : 'never'} (renewed automatically)`,
  );
}

const usd = (amount: number) => `$${amount.toFixed(2)}`;

/** `gatehouse status`: the budgets that limit this person, and whether their providers answer. */
export async function status(options: { json?: boolean }): Promise<void> {
  const credentials = await freshCredentials();
  const current = await getWithKey<SelfStatus>(credentials.server, '/api/me/status', credentials.key);
  if (options.json) return printJson(current);
  out(paint(process.stdout, 'bold', 'Budgets'));
  if (current.budgets.length === 0) out('  none — spending is not limited');
  for (const budget of current.budgets) {
    const label =
      budget.name ?? `${budget.scope} ${budget.window}${budget.model ? ` (${budget.model})` : ''}`;
    const exhausted = budget.action === 'block' && budget.remainingUsd <= 0;
    const remaining = paint(process.stdout, exhausted ? 'red' : 'green', `${usd(budget.remainingUsd)} left`);
    const resets = budget.resetsAt ? `, resets ${new Date(budget.resetsAt).toLocaleString()}` : '';
    out(`  ${label}: ${usd(budget.spentUsd)} of ${usd(budget.limitUsd)} spent, ${remaining}${resets}`);
  }
  out(paint(process.stdout, 'bold', 'Providers'));
  for (const provider of current.providers) {
    const health =
      provider.status === 'available'
        ? paint(process.stdout, 'green', 'available')
        : paint(process.stdout, 'yellow', `failing, retried in ${provider.retryInSeconds ?? '?'} s`);
    out(`  ${provider.name} (${provider.type}): ${health}`);
  }
}

/** `gatehouse logout`: ends this device's sign-in on the server, then forgets it here. */
export async function logout(): Promise<void> {
  const credentials = await readCredentials();
  if (!credentials) {
    note('Not signed in.');
    return;
  }
  let serverKnows = true;
  try {
    const metadata = await discover(credentials.server);
    const refreshToken = await readRefreshToken(credentials);
    // Revoking the refresh token ends the device's sign-in and every key minted for it.
    await oauthPost(metadata.revocation_endpoint, {
      token: refreshToken ?? credentials.key,
      client_id: CLIENT_ID,
    });
  } catch (error) {
    serverKnows = false;
    if (!(error instanceof CliError)) throw error;
  }
  await deleteCredentials(credentials);
  note(`${paint(process.stderr, 'green', '✓')} Signed out of ${credentials.server}.`);
  if (!serverKnows) {
    throw new CliError(
      'The server could not be told; this machine has forgotten the sign-in, but its key stays valid until it expires.',
      ExitCode.serverUnavailable,
    );
  }
}
