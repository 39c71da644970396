import { describe, expect, it } from 'vitest';
import { typeFieldsOf } from '../../server/src/control/admin/provider-fields.js';
import { roleBody } from '../../server/src/control/admin/roles.js';
import {
  createBudgetBody,
  createProviderBody,
  createRateLimitBody,
  createRoutingPolicyBody,
  createVirtualKeyBody,
} from '../../server/src/control/admin/schemas.js';
import {
  updateProviderBody,
  updateRoutingPolicyBody,
} from '../../server/src/control/admin/update-schemas.js';
import { PERMISSIONS } from '../../server/src/control/permissions.js';
import { registeredAdapters } from '../../server/src/gateway/index.js';
import type { ProviderType } from '../src/api.js';
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
  rateLimitBody,
  rateLimitForm,
  rateLimitScopes,
  routingPolicyBody,
  routingPolicyForm,
  routingPolicyUpdateBody,
  virtualKeyBody,
  virtualKeyForm,
} from '../src/forms.js';
import {
  connectBody,
  editBody,
  emptyValues,
  fieldsFor,
  inputOf,
  providerErrors,
  rotateBody,
} from '../src/provider-credential.js';

/**
 * The web app's forms mirror the admin API's request schemas (which cannot be bundled for the
 * browser); every body a valid form makes must be one the server's own schema accepts.
 */
describe("the web app's forms and the API's schemas", () => {
  it('makes provider bodies the API accepts, for every type the server registers, from its own field list', () => {
    const adapters = registeredAdapters();
    const create = createProviderBody(adapters);
    const update = updateProviderBody(adapters);
    // What GET /provider-types answers, built the same way the route builds it.
    const types: ProviderType[] = adapters.map((adapter) => ({
      type: adapter.type,
      description: adapter.description,
      baseUrlRequired: adapter.credential.baseUrlRequired === true,
      fields: typeFieldsOf(adapter),
    }));
    for (const type of types) {
      const values = emptyValues(type.type);
      values.name = `acme ${type.type}`;
      values.baseUrl = type.baseUrlRequired ? 'https://acme.example.com' : '';
      for (const field of type.fields) {
        values.fields[field.name] = inputOf(field) === 'json' ? '{"gpt-4o": "acme-4o"}' : 'x'.repeat(24);
      }
      expect(providerErrors(type, values, 'connect'), type.type).toEqual({});
      expect(create.safeParse(connectBody(type, values)).success, type.type).toBe(true);
      expect(update.safeParse(editBody(type, values)).success, type.type).toBe(true);
      const rotated = rotateBody(type, values);
      expect(Object.keys(rotated).sort(), type.type).toEqual(
        fieldsFor(type, 'rotate')
          .map((f) => f.name)
          .sort(),
      );
      expect(update.safeParse(rotated).success, type.type).toBe(true);
      // Required fields left empty are named before anything is sent.
      const required = type.fields.filter((field) => field.required);
      const empty = { ...values, fields: {} };
      expect(Object.keys(providerErrors(type, empty, 'connect')).sort(), type.type).toEqual(
        required.map((field) => `fields.${field.name}`).sort(),
      );
    }
    const azure = types.find((type) => type.type === 'azure') as ProviderType;
    const noEndpoint = { ...emptyValues('azure'), name: 'a', fields: { apiKey: 'k' } };
    expect(providerErrors(azure, noEndpoint, 'connect').baseUrl).toBe('azure needs its endpoint URL');
    const badMap = {
      ...noEndpoint,
      baseUrl: 'https://a.example.com',
      fields: { apiKey: 'k', deployments: '[1]' },
    };
    expect(providerErrors(azure, badMap, 'connect')['fields.deployments']).toMatch(/JSON object/);
    expect(providerErrors(azure, { ...noEndpoint, fields: {} }, 'rotate')).toEqual({
      'fields.apiKey': 'Type the new secret',
    });
  });

  it('makes routing-policy, budget and key bodies the API accepts', () => {
    const policy = routingPolicyForm.parse({
      name: 'default',
      providers: ['prv_1', 'prv_2'],
      aliases: [
        { from: 'fast', to: 'claude-haiku-4-5' },
        { from: '', to: '' },
      ],
      allowedModels: [],
      deniedModels: ['*-opus-*'],
      isDefault: true,
    });
    expect(createRoutingPolicyBody.parse(routingPolicyBody(policy))).toMatchObject({
      modelAliases: { fast: 'claude-haiku-4-5' },
      deniedModels: ['*-opus-*'],
    });
    expect(updateRoutingPolicyBody.parse(routingPolicyUpdateBody(policy)).allowedModels).toBeNull();
    const halfAlias = routingPolicyForm.safeParse({ ...policy, aliases: [{ from: 'fast', to: '' }] });
    expect(halfAlias.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['aliases.0.to']);
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
