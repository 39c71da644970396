/**
 * Configures a fresh gateway through its admin API, the same calls an operator makes: connect both
 * mock providers, make them the default routing policy, create a project and a virtual key.
 */

export const MOCK_UPSTREAM_API_KEY = 'sk-mock-upstream-key';

interface AdminClient {
  post(path: string, body: unknown): Promise<Record<string, unknown>>;
}

function adminClient(gatewayUrl: string, adminToken: string): AdminClient {
  return {
    async post(path, body) {
      const response = await fetch(`${gatewayUrl}/api/admin${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`admin POST ${path} answered ${response.status}: ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    },
  };
}

function stringField(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== 'string') throw new Error(`admin API response has no string '${field}'`);
  return value;
}

/** Returns the virtual key that load-test requests authenticate with. */
export async function configureGateway(
  gatewayUrl: string,
  adminToken: string,
  mockUrl: string,
): Promise<string> {
  const admin = adminClient(gatewayUrl, adminToken);
  const openai = await admin.post('/providers', {
    name: 'bench-openai',
    type: 'openai',
    baseUrl: `${mockUrl}/v1`,
    apiKey: MOCK_UPSTREAM_API_KEY,
    // Explicit model lists, so each model reaches its own dialect's provider: claude-* passes
    // through to Anthropic, and gpt-* asked in Anthropic's dialect is translated to OpenAI.
    models: ['gpt-4o-mini'],
  });
  const anthropic = await admin.post('/providers', {
    name: 'bench-anthropic',
    type: 'anthropic',
    baseUrl: mockUrl,
    apiKey: MOCK_UPSTREAM_API_KEY,
    models: ['claude-sonnet-4-5'],
  });
  await admin.post('/routing-policies', {
    name: 'default',
    providers: [stringField(openai, 'id'), stringField(anthropic, 'id')],
    isDefault: true,
  });
  const project = await admin.post('/projects', { name: 'bench' });
  const virtualKey = await admin.post('/virtual-keys', {
    projectId: stringField(project, 'id'),
    name: 'bench',
  });
  return stringField(virtualKey, 'key');
}
