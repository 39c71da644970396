import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundNetworks } from '../src/security/outbound-networks.js';
import { providerCredentials } from '../src/store/schema.js';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { ADMIN_TOKEN, startTestGatehouse, type TestGatehouse } from './support/harness.js';

describe('the outbound network rules', () => {
  const rules = new OutboundNetworks();

  it('refuse metadata, link-local, private, loopback and their IPv6 and mapped forms', () => {
    const refused = [
      '169.254.169.254',
      '169.254.170.2',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '127.0.0.1',
      '127.1.2.3',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      '::ffff:127.0.0.1',
      '::ffff:169.254.169.254',
      '64:ff9b::a9fe:a9fe',
      'fd00:ec2::254',
      'fe80::1',
    ];
    for (const address of refused) expect(rules.refusalFor(address), address).toBeDefined();
    expect(rules.refusalFor('169.254.169.254')).toContain('metadata');
  });

  it('let public addresses through, and a range the operator names', () => {
    for (const address of ['8.8.8.8', '104.18.0.1', '2606:4700::1111', '172.32.0.1']) {
      expect(rules.refusalFor(address), address).toBeUndefined();
    }
    const onPremise = new OutboundNetworks(['10.20.0.0/16', '::1/128']);
    expect(onPremise.refusalFor('10.20.3.4')).toBeUndefined();
    expect(onPremise.refusalFor('::1')).toBeUndefined();
    expect(onPremise.refusalFor('10.21.0.1')).toBe('a private network');
  });
});

describe('a provider whose base URL points inside', () => {
  let mock: MockUpstream;
  let server: TestGatehouse;

  beforeAll(async () => {
    mock = await startMockUpstream();
    // No allowed networks: as a real deployment starts.
    server = await startTestGatehouse({ GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS: '' });
  });
  afterAll(async () => {
    await server?.close();
    await mock?.close();
  });

  it('is refused at call time, by IP literal and by a name that resolves to loopback, and nothing is sent', async () => {
    const port = new URL(mock.url).port;
    for (const [name, host] of [
      ['inside-literal', '127.0.0.1'],
      ['inside-name', 'localhost'],
    ] as const) {
      // The admin API refuses such a URL (below); a name can still resolve inside later (DNS
      // rebinding), which the row changed behind the API's back stands for here.
      const provider = await server.admin('POST', '/providers', {
        name,
        type: 'openai',
        baseUrl: 'http://203.0.113.10/v1',
        apiKey: MOCK_UPSTREAM_API_KEY,
        models: ['gpt-4o-mini'],
      });
      await server.gatehouse.storage.db
        .update(providerCredentials)
        .set({ baseUrl: `http://${host}:${port}/v1` })
        .where(eq(providerCredentials.id, provider.id));
      const policy = await server.admin('POST', '/routing-policies', { name, providers: [provider.id] });
      const project = await server.admin('POST', '/projects', { name, routingPolicyId: policy.id });
      const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name });
      const openai = new OpenAI({ apiKey: key.key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
      const failure = await openai.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
        .catch((error: unknown) => error);
      expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((failure as Error).message).toContain(
        `'${name}' points at an address Gatehouse may not call (loopback)`,
      );
    }
    expect(mock.requests.length).toBe(0);
  });

  it('is refused by the admin API, for providers and for an OIDC issuer, and no URL may carry a password', async () => {
    const post = (body: Record<string, unknown>) =>
      fetch(`${server.url}/api/admin/providers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'openai', apiKey: 'sk-x', models: ['m'], ...body }),
      });
    for (const [index, baseUrl] of [
      'http://169.254.169.254/latest/meta-data',
      'http://10.0.0.7:8000/v1',
      'http://localhost:11434/v1',
      'http://[::1]:8000/v1',
      'http://[fd00:ec2::254]/',
    ].entries()) {
      const response = await post({ name: `inside ${index}`, baseUrl });
      expect(response.status, baseUrl).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
        /^baseUrl: .* which is /,
      );
    }
    const withPassword = await post({ name: 'userinfo', baseUrl: 'https://user:secret@llm.example.com/v1' });
    expect(withPassword.status).toBe(400);
    expect(await withPassword.text()).not.toContain('secret@');

    const created = await server.admin('POST', '/providers', {
      name: 'public',
      type: 'openai',
      baseUrl: 'http://203.0.113.20/v1',
      apiKey: 'sk-x',
      models: ['m'],
    });
    const patched = await fetch(`${server.url}/api/admin/providers/${created.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ baseUrl: 'http://169.254.169.254/' }),
    });
    expect(patched.status).toBe(400);

    const issuer = await fetch(`${server.url}/api/admin/sso/oidc`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ issuer: 'http://127.0.0.1:9/', clientId: 'gatehouse', clientSecret: 'secret' }),
    });
    expect(issuer.status).toBe(400);
    expect(((await issuer.json()) as { error: { message: string } }).error.message).toContain('issuer: ');
  });

  it("holds a Vertex key file's token_uri to the same rules, at create and at patch", async () => {
    // The key file names where tokens are minted; whoever may connect a provider may write it.
    const keyFile = (tokenUri: string) =>
      JSON.stringify({
        client_email: 'gw@example.iam.gserviceaccount.com',
        private_key: 'x',
        token_uri: tokenUri,
      });
    const send = (method: string, path: string, body: Record<string, unknown>) =>
      fetch(`${server.url}/api/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const vertex = (name: string, tokenUri: string) => ({
      name,
      type: 'vertex',
      projectId: 'p',
      location: 'us-east5',
      serviceAccountJson: keyFile(tokenUri),
    });
    const refusal = async (response: Response) => {
      expect(response.status).toBe(400);
      return ((await response.json()) as { error: { message: string } }).error.message;
    };
    expect(
      await refusal(await send('POST', '/providers', vertex('metadata', 'http://169.254.169.254/token'))),
    ).toMatch(
      /^serviceAccountJson\.token_uri: 169\.254\.169\.254 resolves to 169\.254\.169\.254, which is link-local/,
    );
    const created = await send('POST', '/providers', vertex('public token', 'https://203.0.113.30/token'));
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const patched = await send('PATCH', `/providers/${id}`, {
      serviceAccountJson: keyFile('http://10.0.0.9/token'),
    });
    expect(await refusal(patched)).toContain('serviceAccountJson.token_uri: 10.0.0.9');
    const notUrl = await send('POST', '/providers', vertex('not a url', 'file:///etc/passwd'));
    expect(await refusal(notUrl)).toContain('serviceAccountJson must be a service account key file');
  });
});
