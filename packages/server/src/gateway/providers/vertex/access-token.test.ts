import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutboundNetworks, RefusedAddressError } from '../../../security/outbound-networks.js';
import { UpstreamClient } from '../../dispatch/upstream.js';
import { CredentialUnavailableError, type ProviderTarget } from '../types.js';
import { accessTokenFor, clearAccessTokenClients } from './access-token.js';

const TIMEOUTS = { connectMs: 5_000, headersMs: 5_000, idleMs: 5_000 };
/** The gateway's upstream client, allowed to reach the loopback token endpoint below. */
const upstream = new UpstreamClient(TIMEOUTS, new OutboundNetworks(['127.0.0.0/8']));
/** The same client under the default outbound rules, which refuse loopback. */
const guarded = new UpstreamClient(TIMEOUTS, new OutboundNetworks());

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

let server: Server;
let tokenUri: string;
let assertions: string[] = [];
/** What the next answers say: the token's lifetime and whether the endpoint refuses. */
let lifetimeSeconds = 3599;
let refuse = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      assertions.push(form.get('assertion') ?? '');
      // Answer a little later, so concurrent callers are all waiting on the one request.
      setTimeout(() => {
        res.writeHead(refuse ? 400 : 200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            refuse
              ? { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }
              : {
                  access_token: `token-${assertions.length}`,
                  expires_in: lifetimeSeconds,
                  token_type: 'Bearer',
                },
          ),
        );
      }, 50);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  tokenUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});
afterAll(async () => {
  await Promise.all([upstream.close(), guarded.close()]);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  assertions = [];
  lifetimeSeconds = 3599;
  refuse = false;
  clearAccessTokenClients();
});

function target(id = 'prov_vertex'): ProviderTarget {
  const serviceAccountJson = JSON.stringify({
    type: 'service_account',
    private_key_id: 'key-7',
    private_key: privateKey,
    client_email: 'gateway@example.iam.gserviceaccount.com',
    token_uri: tokenUri,
  });
  return {
    id,
    name: 'vertex',
    type: 'vertex',
    baseUrl: undefined,
    apiKey: undefined,
    secret: { serviceAccountJson },
    settings: {},
    forwardIdentity: false,
    models: undefined,
    priceOverrides: {},
  };
}

describe('Vertex access tokens', () => {
  it('signs an RS256 JWT-bearer assertion for the key, one hour long, addressed to its token_uri', async () => {
    expect(await accessTokenFor(target(), upstream)).toBe('token-1');
    const [assertion] = assertions as [string];
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'RS256', kid: 'key-7' });
    const { payload } = await jwtVerify(assertion, await importSPKI(publicKey, 'RS256'), {
      issuer: 'gateway@example.iam.gserviceaccount.com',
      audience: tokenUri,
    });
    expect(payload.scope).toBe('https://www.googleapis.com/auth/cloud-platform');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
  });

  it('shares one token request among concurrent callers, and reuses the token while it is fresh', async () => {
    const tokens = await Promise.all(Array.from({ length: 8 }, () => accessTokenFor(target(), upstream)));
    expect(new Set(tokens)).toEqual(new Set(['token-1']));
    expect(await accessTokenFor(target(), upstream)).toBe('token-1');
    expect(assertions).toHaveLength(1);
    // Another credential has its own token.
    expect(await accessTokenFor(target('prov_other'), upstream)).toBe('token-2');
  });

  it('mints a new token when the cached one is about to expire', async () => {
    lifetimeSeconds = 60;
    expect(await accessTokenFor(target(), upstream)).toBe('token-1');
    expect(await accessTokenFor(target(), upstream)).toBe('token-2');
    expect(decodeJwt(assertions[1] as string).iss).toBe('gateway@example.iam.gserviceaccount.com');
  });

  it('says what the token endpoint refused, and tries again on the next call', async () => {
    refuse = true;
    await expect(accessTokenFor(target(), upstream)).rejects.toThrow(/answered 400 .*Invalid JWT Signature/);
    refuse = false;
    expect(await accessTokenFor(target(), upstream)).toBe('token-2');
  });

  it("holds the key file's token_uri to the outbound address rules: a refused one is never called", async () => {
    const refused = await accessTokenFor(target(), guarded).catch((error: unknown) => error);
    // The credential's failure (dispatch falls back past it), caused by the refused address.
    expect(refused).toBeInstanceOf(CredentialUnavailableError);
    expect((refused as Error).cause).toBeInstanceOf(RefusedAddressError);
    expect((refused as Error).message).toBe(
      "Vertex credential 'vertex': its key file's token_uri points at an address Gatehouse may not call (loopback)",
    );
    expect(assertions).toHaveLength(0);
  });
});
