import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { landingFor } from '../src/control/me/routes.js';
import { createPersonalCaller, startTestGatehouse, type TestGatehouse } from './support/harness.js';

/**
 * The web app's first page is chosen on the server, from what the person may do: `/api/me`
 * says `landing`, and the browser opens it unless the person picked another.
 */
describe('the landing page /api/me names', () => {
  let server: TestGatehouse;
  beforeAll(async () => {
    server = await startTestGatehouse();
  });
  afterAll(() => server.close());

  async function landingOf(key: string): Promise<string> {
    const response = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    return (await response.json()).landing;
  }

  it('is governance for an admin, spend for billing, me for an engineer with a personal key', async () => {
    const admin = await createPersonalCaller(server, 'ada');
    const billing = await createPersonalCaller(server, 'bill');
    const engineer = await createPersonalCaller(server, 'eve');
    await server.admin('POST', '/role-bindings', {
      role: 'admin',
      subject: { kind: 'user', id: admin.userId },
    });
    await server.admin('POST', '/role-bindings', {
      role: 'billing',
      subject: { kind: 'user', id: billing.userId },
    });
    expect(await landingOf(admin.key)).toBe('governance');
    expect(await landingOf(billing.key)).toBe('spend');
    expect(await landingOf(engineer.key)).toBe('me');
  });

  it('is usage for someone with neither a role nor personal access, and viewers govern', () => {
    expect(landingFor(new Set(['gateway:use']), false)).toBe('usage');
    expect(landingFor(new Set(['governance:view', 'usage:view']), false)).toBe('governance');
    // With the governance pages switched off, nobody lands on them.
    expect(landingFor(new Set(['governance:view', 'usage:view']), false, false)).toBe('usage');
    expect(landingFor(new Set(['governance:view', 'usage:view']), true, false)).toBe('me');
    expect(landingFor(new Set(['providers:manage']), true)).toBe('governance');
    expect(landingFor(new Set(['budgets:manage', 'usage:view', 'providers:view']), true)).toBe('me');
  });
});
