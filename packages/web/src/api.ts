/**
 * The one way the app talks to the server: same-origin JSON, the SSO session cookie, and the
 * session's CSRF token on every state-changing call. Errors carry the API's own code and message.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;

/** Set once the session is read; sent as `x-csrf-token` on every call that changes something. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? `${method} ${path} answered ${response.status}.`,
    );
  }
  return parsed as T;
}

/** A query string from the set values only. */
export function query(values: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export type Landing = 'governance' | 'spend' | 'me' | 'usage';

export interface Session {
  user: { id: string; email: string; name: string | null };
  organization: { id: string; name: string };
  csrfToken: string;
}

export interface Me {
  user: { id: string; email: string; name: string | null; teamId: string | null };
  organization: { id: string };
  organizations: { id: string; name: string; current: boolean }[];
  permissions: string[];
  grants: { permissions: string[]; scope: { kind: string; id?: string } }[];
  /** The organisation's release flags as they apply now (forced by the deployment or not). */
  featureFlags: Record<FeatureFlag, boolean>;
  landing: Landing;
}

export type FeatureFlag = 'release_ui_ai_gateway_menu_enabled' | 'release_ui_ai_governance_enabled';

export interface List<T> {
  data: T[];
}

export interface MyKey {
  id: string;
  name: string;
  kind: string;
  hint: string;
  deviceId: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface MyDevice {
  id: string;
  name: string | null;
  clientId: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface UsageRow {
  group: string | null;
  requests: number;
  refused: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

export interface UsageReport {
  groupBy: string;
  rows: UsageRow[];
}

/** A usage report with `interval`: every bucket's start, and a row per bucket and group with calls. */
export interface UsageSeries {
  groupBy: string;
  interval: 'hour' | 'day';
  buckets: string[];
  rows: (UsageRow & { bucket: string })[];
}

/** `GET /api/admin/governance/summary`: the governance home at a glance. */
export interface GovernanceSummary {
  timeZone: string;
  spend: Record<'today' | 'month', { costUsd: number; since: string; previousUsd: number }>;
  people: { active: number; new: number; days: number };
  topSpenders: {
    principalId: string;
    label: string | null;
    kind: 'person' | 'serviceKey';
    costUsd: number;
    requests: number;
    topModel: string | null;
    topTool: string | null;
  }[];
  providers: {
    id: string;
    name: string;
    type: string;
    attempts: number;
    failures: number;
    errorRate: number | null;
    p50LatencyMs: number | null;
    p95LatencyMs: number | null;
    circuit: 'closed' | 'open';
    retryInSeconds: number | null;
  }[];
  healthHours: number;
}

/** `GET /api/me/requests`: one of my calls, newest first. */
export interface MyRequest {
  requestId: string;
  createdAt: string;
  model: string;
  tool: string | null;
  providerType: string | null;
  status: number;
  errorCode: string | null;
  streamed: boolean;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  unpriced: boolean;
  latencyMs: number;
}

export interface MyBudget {
  id: string;
  name: string | null;
  scope: string;
  window: string;
  action: 'block' | 'alert';
  model: string | null;
  limitUsd: number;
  spentUsd: number;
  remainingUsd: number;
  resetsAt: string | null;
}

export interface MyStatus {
  budgets: MyBudget[];
  providers: { name: string; type: string; status: string; retryInSeconds: number | null }[];
}

export interface Provider {
  id: string;
  name: string;
  type: string;
  baseUrl: string | null;
  hasApiKey: boolean;
  /** The type's settings that are not secret (secrets never come back). */
  settings: Record<string, unknown>;
  models: string[] | null;
  createdAt: string;
}

/** One field of a provider type's credential, from `GET /provider-types` (the adapter's own schema). */
export interface ProviderTypeField {
  name: string;
  secret: boolean;
  required: boolean;
  description: string;
  /** JSON Schema: `type`, `minLength`, `maxLength`, `additionalProperties`. */
  schema: { type?: string; minLength?: number; maxLength?: number; [keyword: string]: unknown };
}

export interface ProviderType {
  type: string;
  description: string;
  baseUrlRequired: boolean;
  fields: ProviderTypeField[];
}

/** `POST /providers/:id/test`: one cheap real request with the stored credential. */
export interface ConnectionTest {
  ok: boolean;
  status: number | null;
  latencyMs: number;
  message: string;
}

export interface RoutingPolicy {
  id: string;
  name: string;
  providers: string[];
  modelAliases: Record<string, string>;
  isDefault: boolean;
  allowedModels: string[] | null;
  deniedModels: string[];
  createdAt: string;
}

/** `GET /routing-policies/preview`: what the gateway's resolver would do with a model. */
export interface RoutingPreview {
  policy: { id: string; name: string; source: 'project' | 'named' | 'default' } | null;
  requestedModel: string;
  model: string;
  allowed: boolean;
  refusal: { code: string; message: string } | null;
  chain: {
    providerId: string;
    name: string;
    type: string;
    tryOrder: number | null;
    skipped: 'unknown_provider_type' | 'model_not_served' | 'api_not_spoken' | 'circuit_open' | null;
    translated: boolean | null;
    dialect: string | null;
    retryInSeconds: number | null;
  }[];
}

export interface Budget {
  id: string;
  name: string | null;
  scope: 'org' | 'team' | 'project' | 'user' | 'key';
  scopeId: string;
  limitUsd: number;
  window: string;
  action: 'block' | 'alert';
  providerId: string | null;
  model: string | null;
  spentUsd: number;
  reservedUsd: number;
  remainingUsd: number;
  resetsAt: string | null;
  createdAt: string;
}

export interface Project {
  id: string;
  name: string;
  isPersonal: boolean;
  routingPolicyId: string | null;
  teamId: string | null;
}

export interface VirtualKey {
  id: string;
  projectId: string;
  name: string;
  kind: 'service' | 'personal';
  hint: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface User {
  id: string;
  email: string;
  name: string | null;
  teamId: string | null;
  disabledAt: string | null;
  createdAt: string;
}

export interface Team {
  id: string;
  name: string;
  externalId: string | null;
  createdAt: string;
}

export interface SsoSettings {
  oidc: {
    issuer: string;
    clientId: string;
    hasClientSecret: boolean;
    /** Set by the server's GATEHOUSE_OIDC_* settings: not removable here. */
    fromEnvironment: boolean;
  } | null;
  saml: { entryPoint: string; idpEntityId: string; certificates: number } | null;
}

export interface ScimToken {
  id: string;
  name: string;
  revokedAt?: string | null;
}

export interface Role {
  id: string;
  name: string;
  description: string | null;
  builtIn: boolean;
  permissions: string[];
}

export interface GrantScope {
  kind: string;
  id?: string;
}

export interface RoleBinding {
  id: string;
  role: string;
  subject: { kind: 'user' | 'team' | 'idpGroup'; id: string };
  scope: GrantScope;
  createdAt: string;
}

export interface AdminToken {
  id: string;
  name: string;
  permissions: string[];
  scope: GrantScope;
  tokenHint: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface RateLimit {
  id: string;
  scope: 'key' | 'user' | 'project' | 'provider';
  scopeId: string;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  createdAt: string;
}

export interface AuditEvent {
  id: string;
  seq: number;
  occurredAt: string;
  actorKind: string;
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  before: unknown;
  after: unknown;
  sourceIp: string | null;
  requestId: string | null;
}

export interface AuditPage {
  data: AuditEvent[];
  nextCursor: string | null;
}

export interface AuditCheckpoint {
  seq: number;
  hash: string;
  createdAt: string;
}

/** `GET /sso`: the settings, and the addresses to register at the identity provider. */
export interface SsoView extends SsoSettings {
  redirectUri: string;
  samlAcsUrl: string;
  samlMetadataUrl: string;
}

export interface ScimTokenListed {
  id: string;
  name: string;
  tokenHint: string;
  createdAt: string;
  revokedAt: string | null;
}

/** `POST /users/:id/revoke-access`: how much of the person's access was cut off. */
export interface RevokedAccess {
  userId: string;
  revokedKeys: number;
  /** CLI sign-ins (devices) and their refresh tokens. */
  revokedGrants: number;
  revokedSessions: number;
}

export interface Organization {
  id: string;
  name: string;
  timeZone: string;
  emailDomains: string[];
  personalKeyTtlSeconds: number;
  storageOutageMode: 'closed' | 'open';
  /** Each flag as it applies now; `forced` ones the deployment keeps on. */
  featureFlags: Record<FeatureFlag, { enabled: boolean; forced: boolean }>;
}
