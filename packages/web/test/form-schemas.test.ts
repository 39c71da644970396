import { describe, expect, it } from 'vitest';
import {
  createBudgetBody,
  createProviderBody,
  createRoutingPolicyBody,
  createVirtualKeyBody,
} from '../../server/src/control/admin/schemas.js';
import { registeredAdapters } from '../../server/src/gateway/index.js';
import {
  adminTokenBody,
  adminTokenForm,
  budgetBody,
  budgetForm,
  budgetScopes,
  budgetWindows,
  keyLifetimes,
  providerBody,
  providerForm,
  providerTypes,
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
});
