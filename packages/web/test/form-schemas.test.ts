import { describe, expect, it } from 'vitest';
import { roleBody } from '../../server/src/control/admin/roles.js';
import {
  createBudgetBody,
  createProviderBody,
  createRateLimitBody,
  createRoutingPolicyBody,
  createVirtualKeyBody,
} from '../../server/src/control/admin/schemas.js';
import { PERMISSIONS } from '../../server/src/control/permissions.js';
import { registeredAdapters } from '../../server/src/gateway/index.js';
import {
  adminTokenBody,
  adminTokenForm,
  budgetBody,
  budgetForm,
  budgetScopes,
  budgetWindows,
  customRoleBody,
  customRoleForm,
  keyLifetimes,
  permissionCatalogue,
  providerBody,
  providerForm,
  providerTypes,
  rateLimitBody,
  rateLimitForm,
  rateLimitScopes,
  routingPolicyBody,
  routingPolicyForm,
  virtualKeyBody,
  virtualKeyForm,
} from '../src/forms.js';

/**
 * The web app's forms mirror the admin API's request schemas (which cannot be bundled for the
 * browser); every body a valid form makes must be one the server's own schema accepts.
 */
describe("the web app's forms and the API's schemas", () => {
  it('makes provider bodies the API accepts, for every type the form offers', () => {
    const server = createProviderBody(registeredAdapters());
    for (const type of providerTypes) {
      const values = providerForm.parse({
        name: 'acme',
        type,
        baseUrl: type === 'azure' ? 'https://acme.openai.azure.com' : '',
        apiKey: 'sk-test',
        models: [],
      });
      expect(server.safeParse(providerBody(values)).success, type).toBe(true);
    }
    expect(
      providerForm.safeParse({ name: 'a', type: 'azure', baseUrl: '', apiKey: 'k', models: [] }).success,
    ).toBe(false);
  });

  it('makes routing-policy, budget and key bodies the API accepts', () => {
    const policy = routingPolicyForm.parse({ name: 'default', providers: ['prv_1'], isDefault: true });
    expect(createRoutingPolicyBody.safeParse(routingPolicyBody(policy)).success).toBe(true);
    for (const scope of budgetScopes) {
      for (const window of budgetWindows) {
        const values = budgetForm.parse({
          name: '',
          scope,
          scopeId: 'x_1',
          limitUsd: 5,
          window,
          action: 'alert',
        });
        expect(createBudgetBody.safeParse(budgetBody(values)).success, `${scope} ${window}`).toBe(true);
      }
    }
    for (const { value } of keyLifetimes) {
      const values = virtualKeyForm.parse({ projectId: 'prj_1', name: 'ci', expiresInSeconds: value });
      expect(createVirtualKeyBody.safeParse(virtualKeyBody(values)).success, value).toBe(true);
    }
  });

  it('refuses what the API would refuse', () => {
    expect(
      budgetForm.safeParse({
        name: '',
        scope: 'org',
        scopeId: 'o',
        limitUsd: 0,
        window: 'day',
        action: 'block',
      }).success,
    ).toBe(false);
    expect(virtualKeyForm.safeParse({ projectId: '', name: 'ci', expiresInSeconds: '0' }).success).toBe(
      false,
    );
    expect(
      adminTokenBody(adminTokenForm.parse({ name: 't', role: 'viewer', expiresInSeconds: '0' })),
    ).toEqual({
      name: 't',
      role: 'viewer',
    });
  });

  it('makes rate-limit bodies the API accepts, with either limit or both, and refuses neither', () => {
    for (const scope of rateLimitScopes) {
      for (const [requestsPerMinute, tokensPerMinute] of [
        [60, ''],
        ['', 100_000],
        [10, 5000],
      ] as const) {
        const values = rateLimitForm.parse({ scope, scopeId: 'x_1', requestsPerMinute, tokensPerMinute });
        expect(createRateLimitBody.safeParse(rateLimitBody(values)).success, `${scope}`).toBe(true);
      }
    }
    expect(
      rateLimitForm.safeParse({ scope: 'key', scopeId: 'k', requestsPerMinute: '', tokensPerMinute: '' })
        .success,
    ).toBe(false);
    expect(
      rateLimitForm.safeParse({ scope: 'key', scopeId: 'k', requestsPerMinute: 1.5, tokensPerMinute: '' })
        .success,
    ).toBe(false);
  });

  it('offers the whole permission catalogue and makes custom-role bodies the API accepts', () => {
    expect([...permissionCatalogue]).toEqual([...PERMISSIONS]);
    const values = customRoleForm.parse({
      name: 'auditor',
      description: '',
      permissions: ['auditLog:view', 'usage:view'],
    });
    expect(customRoleBody(values)).toEqual({ name: 'auditor', permissions: ['auditLog:view', 'usage:view'] });
    expect(roleBody.safeParse(customRoleBody(values)).success).toBe(true);
    expect(
      roleBody.safeParse(customRoleBody({ ...values, description: 'Reads the audit log' })).success,
    ).toBe(true);
    expect(customRoleForm.safeParse({ name: 'x', description: '', permissions: [] }).success).toBe(false);
  });
});
