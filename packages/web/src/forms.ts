import { z } from 'zod';

/**
 * The admin forms' shapes. They mirror the API's own request schemas
 * (`server/src/control/admin/schemas.ts`), which import the server's storage schema and cannot be
 * bundled for the browser; `test/form-schemas.test.ts` parses every form's output with the
 * server's schemas, so the two cannot drift apart unnoticed. Each `…Body` turns form values into
 * the request body (empty optional fields left out).
 */

const name = z.string().trim().min(1, 'Give it a name').max(200);
const optionalText = z.string().trim().max(200);

const modelPattern = z.string().trim().min(1).max(200);

export const routingPolicyForm = z
  .object({
    name,
    /** Provider credential ids, in the order they are tried. */
    providers: z.array(z.string().min(1)).min(1, 'Add at least one provider'),
    aliases: z.array(
      // Empty strings are allowed here so a half-typed row can say which side is missing.
      z.object({ from: z.string().trim().max(200), to: z.string().trim().max(200) }),
    ),
    allowedModels: z.array(modelPattern),
    deniedModels: z.array(modelPattern),
    isDefault: z.boolean(),
  })
  .superRefine((values, context) => {
    const seen = new Set<string>();
    for (const [index, alias] of values.aliases.entries()) {
      if (alias.from === '' && alias.to === '') continue; // a blank row is dropped, not refused
      if (alias.from === '')
        context.addIssue({
          code: 'custom',
          path: ['aliases', index, 'from'],
          message: 'The model clients ask for',
        });
      if (alias.to === '')
        context.addIssue({
          code: 'custom',
          path: ['aliases', index, 'to'],
          message: 'The model the provider is asked for',
        });
      if (seen.has(alias.from))
        context.addIssue({
          code: 'custom',
          path: ['aliases', index, 'from'],
          message: 'Already aliased above',
        });
      seen.add(alias.from);
    }
  });
export type RoutingPolicyForm = z.infer<typeof routingPolicyForm>;

const aliasMap = (values: RoutingPolicyForm) =>
  Object.fromEntries(
    values.aliases.filter((alias) => alias.from && alias.to).map((alias) => [alias.from, alias.to]),
  );

/** `POST /routing-policies`; no allowed models means every model. */
export const routingPolicyBody = (values: RoutingPolicyForm) => ({
  name: values.name,
  providers: values.providers,
  modelAliases: aliasMap(values),
  ...(values.allowedModels.length > 0 ? { allowedModels: values.allowedModels } : {}),
  deniedModels: values.deniedModels,
  isDefault: values.isDefault,
});

/** `PATCH /routing-policies/:id`: every field, an emptied allow list clearing it (all models). */
export const routingPolicyUpdateBody = (values: RoutingPolicyForm) => ({
  ...routingPolicyBody(values),
  allowedModels: values.allowedModels.length > 0 ? values.allowedModels : null,
});

export const routingPolicyValues = (policy: {
  name: string;
  providers: string[];
  modelAliases: Record<string, string>;
  allowedModels: string[] | null;
  deniedModels: string[];
  isDefault: boolean;
}): RoutingPolicyForm => ({
  name: policy.name,
  providers: policy.providers,
  aliases: Object.entries(policy.modelAliases).map(([from, to]) => ({ from, to })),
  allowedModels: policy.allowedModels ?? [],
  deniedModels: policy.deniedModels,
  isDefault: policy.isDefault,
});

export const budgetScopes = ['org', 'team', 'project', 'user', 'key'] as const;
export const budgetWindows = ['day', 'week', 'month', 'total'] as const;

export const budgetForm = z.object({
  name: optionalText,
  scope: z.enum(budgetScopes),
  scopeId: z.string().min(1, 'Pick what the budget applies to'),
  limitUsd: z.number({ error: 'An amount in USD' }).positive('More than 0').max(1e9),
  window: z.enum(budgetWindows),
  action: z.enum(['block', 'alert']),
});
export type BudgetForm = z.infer<typeof budgetForm>;
export const budgetBody = (values: BudgetForm) => ({
  scope: values.scope,
  scopeId: values.scopeId,
  limitUsd: values.limitUsd,
  window: values.window,
  action: values.action,
  ...(values.name ? { name: values.name } : {}),
});

export const keyLifetimes = [
  { value: '0', label: 'Never expires' },
  { value: String(24 * 3600), label: '1 day' },
  { value: String(30 * 24 * 3600), label: '30 days' },
  { value: String(90 * 24 * 3600), label: '90 days' },
  { value: String(365 * 24 * 3600), label: '1 year' },
];

export const virtualKeyForm = z.object({
  projectId: z.string().min(1, 'Pick a project'),
  name,
  expiresInSeconds: z.string().regex(/^\d+$/),
});
export type VirtualKeyForm = z.infer<typeof virtualKeyForm>;
export const virtualKeyBody = (values: VirtualKeyForm) => ({
  projectId: values.projectId,
  name: values.name,
  ...(values.expiresInSeconds !== '0' ? { expiresInSeconds: Number(values.expiresInSeconds) } : {}),
});

export const projectForm = z.object({ name });
export const teamForm = z.object({ name });

export const bindingForm = z.object({
  role: z.string().min(1, 'Pick a role'),
  subjectKind: z.enum(['user', 'team', 'idpGroup']),
  subjectId: z.string().trim().min(1, 'Who gets the role').max(200),
});
export type BindingForm = z.infer<typeof bindingForm>;
export const bindingBody = (values: BindingForm) => ({
  role: values.role,
  subject: { kind: values.subjectKind, id: values.subjectId },
});

export const builtInRoles = ['owner', 'admin', 'member', 'viewer', 'billing'] as const;

export const adminTokenForm = z.object({
  name,
  role: z.enum(builtInRoles),
  expiresInSeconds: z.string().regex(/^\d+$/),
});
export type AdminTokenForm = z.infer<typeof adminTokenForm>;
export const adminTokenBody = (values: AdminTokenForm) => ({
  name: values.name,
  role: values.role,
  ...(values.expiresInSeconds !== '0' ? { expiresInSeconds: Number(values.expiresInSeconds) } : {}),
});

export const rateLimitScopes = ['key', 'user', 'project', 'provider'] as const;

const perMinute = z
  .number({ error: 'A whole number per minute' })
  .int('A whole number')
  .positive('More than 0')
  .max(1_000_000_000);

export const rateLimitForm = z
  .object({
    scope: z.enum(rateLimitScopes),
    scopeId: z.string().min(1, 'Pick what the limit applies to').max(64),
    requestsPerMinute: z.union([z.literal(''), perMinute]),
    tokensPerMinute: z.union([z.literal(''), perMinute]),
  })
  .refine((values) => values.requestsPerMinute !== '' || values.tokensPerMinute !== '', {
    message: 'Set requests per minute, tokens per minute or both',
    path: ['requestsPerMinute'],
  });
export type RateLimitForm = z.infer<typeof rateLimitForm>;
export const rateLimitBody = (values: RateLimitForm) => ({
  scope: values.scope,
  scopeId: values.scopeId,
  ...(values.requestsPerMinute !== '' ? { requestsPerMinute: values.requestsPerMinute } : {}),
  ...(values.tokensPerMinute !== '' ? { tokensPerMinute: values.tokensPerMinute } : {}),
});

/** The permission catalogue (`server/src/control/permissions.ts`; the test checks they match). */
export const permissionCatalogue = [
  'organization:view',
  'organization:manage',
  'featureFlags:manage',
  'providers:view',
  'providers:manage',
  'routingPolicies:view',
  'routingPolicies:manage',
  'budgets:view',
  'budgets:manage',
  'rateLimits:view',
  'rateLimits:manage',
  'virtualKeys:view',
  'virtualKeys:manage',
  'users:view',
  'users:manage',
  'teams:view',
  'teams:manage',
  'roles:manage',
  'adminTokens:manage',
  'sso:manage',
  'usage:view',
  'auditLog:view',
  'governance:view',
  'governance:manage',
  'ingestionSources:manage',
  'anomalyRules:manage',
  'complianceExport:view',
  'complianceExport:manage',
  'activityMonitor:view',
  'gateway:use',
  'organizations:create',
] as const;

export const customRoleForm = z.object({
  name: z.string().trim().min(1, 'Give it a name').max(100),
  description: z.string().trim().max(500),
  permissions: z
    .array(z.enum(permissionCatalogue))
    .min(1, 'Pick at least one permission')
    .max(permissionCatalogue.length),
});
export type CustomRoleForm = z.infer<typeof customRoleForm>;
export const customRoleBody = (values: CustomRoleForm) => ({
  name: values.name,
  permissions: values.permissions,
  ...(values.description ? { description: values.description } : {}),
});

/** Editing a budget: what it limits stays (scope, window); its name, limit and action change. */
export const budgetEditForm = z.object({
  name: optionalText,
  limitUsd: z.number({ error: 'An amount in USD' }).positive('More than 0').max(1e9),
  action: z.enum(['block', 'alert']),
});
export type BudgetEditForm = z.infer<typeof budgetEditForm>;
/** An emptied name clears it (`null`), so the list falls back to the scope. */
export const budgetEditBody = (values: BudgetEditForm) => ({
  name: values.name === '' ? null : values.name,
  limitUsd: values.limitUsd,
  action: values.action,
});

const issuerUrl = z.url({ protocol: /^https?$/, error: 'An https URL (http only on loopback)' });

export const oidcForm = z.object({
  issuer: issuerUrl,
  clientId: z.string().trim().min(1, 'The client ID the provider gave you').max(500),
  /** Write-only: empty on edit keeps the stored one (for the same client ID). */
  clientSecret: z.string().max(2000),
});
export type OidcForm = z.infer<typeof oidcForm>;
/**
 * Secrets are never read back, so an edit form cannot resend the stored one: an empty secret asks
 * the server to keep it, which it does only for the client ID it belongs to. With no stored secret
 * for that client ID, an empty field means a public client (PKCE only).
 */
export const oidcBody = (
  values: OidcForm,
  stored: { clientId: string; hasClientSecret: boolean } | null,
) => ({
  issuer: values.issuer,
  clientId: values.clientId,
  ...(values.clientSecret !== ''
    ? { clientSecret: values.clientSecret }
    : stored?.hasClientSecret && stored.clientId === values.clientId
      ? { keepClientSecret: true }
      : {}),
});

/** PEM blocks as pasted; text without PEM armour is taken as one base64 certificate. */
export const splitCertificates = (text: string): string[] => {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  return blocks ?? (text.trim() === '' ? [] : [text.trim()]);
};

export const samlForm = z.object({
  entryPoint: issuerUrl,
  idpEntityId: z.string().trim().min(1, "The identity provider's entity ID").max(1000),
  certificates: z
    .string()
    .refine((text) => splitCertificates(text).length > 0, 'Paste the signing certificate')
    .refine((text) => splitCertificates(text).length <= 4, 'At most 4 certificates')
    .refine(
      (text) => splitCertificates(text).every((certificate) => certificate.length >= 100),
      'That is too short for a certificate',
    ),
});
export type SamlForm = z.infer<typeof samlForm>;
export const samlBody = (values: SamlForm) => ({
  entryPoint: values.entryPoint,
  idpEntityId: values.idpEntityId,
  certificates: splitCertificates(values.certificates),
});

export const scimTokenForm = z.object({ name });

export const storageOutageModes = ['closed', 'open'] as const;

export const personalKeyLifetimes = [
  { value: String(8 * 3600), label: '8 hours' },
  { value: String(24 * 3600), label: '1 day' },
  { value: String(7 * 24 * 3600), label: '7 days' },
  { value: String(30 * 24 * 3600), label: '30 days' },
];

const domainName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'Domain names such as example.com');

export const organizationForm = z.object({
  name,
  timeZone: z.string().trim().min(1, 'An IANA time zone such as Europe/Lisbon').max(100),
  emailDomains: z.array(domainName).max(100),
  personalKeyTtlSeconds: z.string().regex(/^\d+$/),
  storageOutageMode: z.enum(storageOutageModes),
});
export type OrganizationForm = z.infer<typeof organizationForm>;
export const organizationBody = (values: OrganizationForm) => ({
  name: values.name,
  timeZone: values.timeZone,
  emailDomains: values.emailDomains.map((domain) => domain.trim().toLowerCase()),
  personalKeyTtlSeconds: Number(values.personalKeyTtlSeconds),
  storageOutageMode: values.storageOutageMode,
});
