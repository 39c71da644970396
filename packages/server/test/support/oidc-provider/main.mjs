// A real OpenID Connect provider (panva's oidc-provider v9) for end-to-end SSO tests, run as its own
// process with plain `node` (no tsx). Configured by the OIDC_PROVIDER_CONFIG environment variable:
//
//   {
//     "clients": [{ "client_id", "client_secret"?, "redirect_uris", "token_endpoint_auth_method"? }],
//     "accounts": { "<accountId>": { "email", "email_verified", "name", "groups"? } }
//   }
//
// While it runs, a JSON line on stdin {"account": "<accountId>", "groups": [...]} changes that
// account's groups (as an IdP admin would), answered by {"updated": "<accountId>"} on stdout.
//
// Listens on 127.0.0.1 (PORT, default 0 = any free port) and prints exactly one JSON line on stdout,
// {"issuer":"http://127.0.0.1:PORT"}, once it accepts connections. Exits on SIGTERM/SIGINT, and also
// when its stdin closes if OIDC_PROVIDER_EXIT_ON_STDIN_END=1 (so it dies with the parent test process).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

// oidc-provider prints its NOTICEs with console.info (stdout). Keep stdout for the issuer line alone.
console.info = console.error;

const config = JSON.parse(process.env.OIDC_PROVIDER_CONFIG ?? '{}');
const accounts = config.accounts ?? {};
const clients = (config.clients ?? []).map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  ...client,
  // A web client may register plain-http redirect URIs as long as it does not use the implicit flow.
  application_type: 'web',
}));

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => resolve(undefined));
});
const address = server.address();
if (address === null || typeof address === 'string') throw new Error('unexpected server address');
const issuer = `http://127.0.0.1:${address.port}`;

// A fresh RS256 signing key (the ID token default alg) and an ES256 one, generated at each start.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients,
  jwks: {
    keys: [
      { ...rsa, kid: 'rs256-test', alg: 'RS256', use: 'sig' },
      { ...ec, kid: 'es256-test', alg: 'ES256', use: 'sig' },
    ],
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    // Okta, Entra ID and Keycloak send group names in a `groups` claim; here it rides on profile.
    profile: ['name', 'groups'],
  },
  // Put the scope-requested claims in the ID token too, not only behind the userinfo endpoint.
  conformIdTokenClaims: false,
  // PKCE (S256, the only method oidc-provider v9 supports) for every authorization code request.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    userinfo: { enabled: true },
  },
  async findAccount(_ctx, sub) {
    const account = accounts[sub];
    if (account === undefined) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { ...account, sub };
      },
    };
  },
});

provider.on('server_error', (_ctx, error) => {
  console.error('oidc-provider server_error:', error);
});

server.on('request', provider.callback());

function shutDown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  // Whatever keeps the loop alive, do not linger.
  setTimeout(() => process.exit(0), 1_000).unref();
}
process.once('SIGTERM', shutDown);
process.once('SIGINT', shutDown);
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let newline = pending.indexOf('\n');
  while (newline >= 0) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    newline = pending.indexOf('\n');
    try {
      const change = JSON.parse(line);
      if (accounts[change.account] !== undefined && Array.isArray(change.groups)) {
        accounts[change.account] = { ...accounts[change.account], groups: change.groups };
        process.stdout.write(`${JSON.stringify({ updated: change.account })}\n`);
      }
    } catch {
      // Not a control line.
    }
  }
});
if (process.env.OIDC_PROVIDER_EXIT_ON_STDIN_END === '1') {
  process.stdin.on('end', shutDown);
  process.stdin.on('close', shutDown);
  process.stdin.resume();
}

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
