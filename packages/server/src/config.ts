import { z } from 'zod';
import { isLoopbackHost, isSecureOrLoopback } from './security/loopback.js';
import { parseCidr } from './security/outbound-networks.js';
import { type FeatureFlagName, featureFlagNames } from './store/schema.js';

/**
 * Server settings, read once from the environment at start. Every value has a documented
 * default; a bad value stops the process with the setting's name and what was expected.
 */
export interface Config {
  /** TCP port to listen on. `PORT`, default 4600. */
  port: number;
  /** Interface to bind. `HOST`, default 127.0.0.1 (loopback only until the operator says otherwise). */
  host: string;
  /** Folder for embedded storage and generated secrets. `GATEHOUSE_DATA_DIR`, default `./.gatehouse`. */
  dataDir: string;
  /** External PostgreSQL; when unset, embedded PGlite in `dataDir`. `DATABASE_URL`. */
  databaseUrl: string | undefined;
  /** Redis for hot state shared by many instances. `REDIS_URL`. */
  redisUrl: string | undefined;
  /** Bootstrap bearer with owner rights on the default organisation. `GATEHOUSE_ADMIN_TOKEN`. */
  adminToken: string | undefined;
  /** 32-byte master key (base64 or hex) for secrets at rest and key hashing. `GATEHOUSE_SECRET_KEY`. */
  secretKey: Buffer | undefined;
  /** The URL people and tools reach this server at. `GATEHOUSE_PUBLIC_URL`, default from host and port. */
  publicUrl: string;
  /** Largest accepted request body. `GATEHOUSE_MAX_BODY_BYTES`, default 32 MiB. */
  maxBodyBytes: number;
  /** How long in-flight requests may run after SIGTERM. `GATEHOUSE_SHUTDOWN_GRACE_MS`, default 25 s. */
  shutdownGraceMs: number;
  /**
   * Time a client has to send its request headers, from connecting (header slowloris, and
   * connections that never send a request). `GATEHOUSE_CLIENT_HEADERS_TIMEOUT_MS`, default 10 s.
   */
  clientHeadersTimeoutMs: number;
  /**
   * Time a client has to send its whole request, body included (body slowloris). Responses are
   * not bounded by it: streams last as long as the provider streams.
   * `GATEHOUSE_CLIENT_REQUEST_TIMEOUT_MS`, default 60 s.
   */
  clientRequestTimeoutMs: number;
  /**
   * How long a keep-alive connection may sit idle between requests. Keep it above a load
   * balancer's own idle timeout. `GATEHOUSE_CLIENT_IDLE_TIMEOUT_MS`, default 30 s.
   */
  clientIdleTimeoutMs: number;
  /** Largest OTLP telemetry batch accepted. `GATEHOUSE_TELEMETRY_MAX_BODY_BYTES`, default 4 MiB. */
  telemetryMaxBodyBytes: number;
  /** Telemetry bytes one key may send per minute. `GATEHOUSE_TELEMETRY_KEY_BYTES_PER_MINUTE`, default 16 MiB. */
  telemetryKeyBytesPerMinute: number;
  /**
   * Telemetry bytes one organisation's keys may send per minute together.
   * `GATEHOUSE_TELEMETRY_ORG_BYTES_PER_MINUTE`, default 256 MiB.
   */
  telemetryOrganizationBytesPerMinute: number;
  /**
   * Networks providers may be reached on although they are private, loopback or link-local
   * (on-premise models). `GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS`, comma-separated CIDR ranges;
   * default none.
   */
  upstreamAllowedNetworks: string[];
  /** Time allowed for an upstream to connect. `GATEHOUSE_UPSTREAM_CONNECT_TIMEOUT_MS`, default 10 s. */
  upstreamConnectTimeoutMs: number;
  /** Time allowed for an upstream's response headers. `GATEHOUSE_UPSTREAM_HEADERS_TIMEOUT_MS`, default 10 min. */
  upstreamHeadersTimeoutMs: number;
  /** Longest silence inside an upstream body. `GATEHOUSE_UPSTREAM_IDLE_TIMEOUT_MS`, default 10 min. */
  upstreamIdleTimeoutMs: number;
  /**
   * Extra tries on the last credential of a chain after a 429/5xx whose retry-after is at most
   * 2 s. `GATEHOUSE_UPSTREAM_RETRIES`, default 0: the coding tools retry on their own, and every
   * gateway retry multiplies the load on a provider that is already refusing.
   */
  upstreamRetries: number;
  /**
   * Silence after which a translated stream to an Anthropic client gets a `ping` (providers like
   * Bedrock send none, and Claude Code gives up on a quiet stream).
   * `GATEHOUSE_STREAM_KEEPALIVE_MS`, default 5 s.
   */
  streamKeepAliveMs: number;
  /**
   * Output tokens a budget reservation assumes when a call names no `max_tokens`, and the most it
   * ever assumes, so a 32k `max_tokens` does not lock a small budget.
   * `GATEHOUSE_RESERVATION_OUTPUT_TOKENS`, default 4096.
   */
  reservationOutputTokens: number;
  /** A reservation whose gateway died is dropped after this long. `GATEHOUSE_RESERVATION_TTL_MS`, default 15 min. */
  reservationTtlMs: number;
  /**
   * How often each gateway re-seeds budget counters from the usage ledger, so counters a Redis
   * restart lost are rebuilt. `GATEHOUSE_BUDGET_RESEED_MS`, default 10 s.
   */
  budgetReseedMs: number;
  /** Where budget alerts are posted. `GATEHOUSE_ALERT_WEBHOOK_URL`. */
  alertWebhookUrl: string | undefined;
  /** Signs alert posts (HMAC-SHA256); required with the URL. `GATEHOUSE_ALERT_WEBHOOK_SECRET`. */
  alertWebhookSecret: string | undefined;
  /** How long a resolved key stays cached before it is re-read. `GATEHOUSE_KEY_CACHE_TTL_MS`, default 60 s. */
  keyCacheTtlMs: number;
  /**
   * How often each gateway reads the change log for announcements the message bus did not bring
   * (revocations made while Redis was unreachable). `GATEHOUSE_CHANGE_POLL_MS`, default 1 s.
   */
  changePollMs: number;
  /** Usage events are written in batches at least this often. `GATEHOUSE_USAGE_FLUSH_MS`, default 1 s. */
  usageFlushMs: number;
  /** `GATEHOUSE_LOG_LEVEL`: fatal, error, warn, info, debug; default info. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug';
  /**
   * The default organisation's OpenID Connect provider, so a deployment starts ready to sign
   * people in: `GATEHOUSE_OIDC_ISSUER`, `GATEHOUSE_OIDC_CLIENT_ID`, `GATEHOUSE_OIDC_CLIENT_SECRET`
   * (issuer and client id together or not at all; no secret means a public client with PKCE).
   */
  oidc: { issuer: string; clientId: string; clientSecret: string | undefined } | undefined;
  /**
   * People who may sign in through the built-in development identity provider, for trying
   * personal keys on one machine without a company IdP: `GATEHOUSE_DEV_SSO=alice@example.com,…`.
   * Refused unless the server listens on loopback, and beside GATEHOUSE_OIDC_*.
   */
  devSso: { emails: string[] } | undefined;
  /** A SCIM bearer token for the default organisation. `GATEHOUSE_SCIM_TOKEN`. */
  scimToken: string | undefined;
  /** How long a browser stays signed in. `GATEHOUSE_SESSION_TTL_SECONDS`, default 12 h. */
  sessionTtlSeconds: number;
  /**
   * Release flags forced on for every organisation, whatever their owners chose:
   * `FEATURE_FLAG_FORCE_ENABLE=release_ui_ai_gateway_menu_enabled,…`; default none.
   */
  forcedFeatureFlags: ReadonlySet<FeatureFlagName>;
}

const integer = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        context.addIssue({
          code: 'custom',
          message: `${name} must be a whole number from ${min} to ${max}, got "${value}"`,
        });
        return z.NEVER;
      }
      return parsed;
    });

const isFeatureFlag = (name: string): name is FeatureFlagName =>
  (featureFlagNames as readonly string[]).includes(name);

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value === '' ? undefined : value));

const environmentSchema = z.object({
  PORT: integer('PORT', 4600, 0, 65535),
  HOST: z.string().optional().default('127.0.0.1'),
  GATEHOUSE_DATA_DIR: z.string().optional().default('./.gatehouse'),
  DATABASE_URL: optionalString.refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), {
    message: 'DATABASE_URL must be a postgres:// or postgresql:// URL',
  }),
  REDIS_URL: optionalString.refine((value) => value === undefined || /^rediss?:\/\//.test(value), {
    message: 'REDIS_URL must be a redis:// or rediss:// URL',
  }),
  GATEHOUSE_ADMIN_TOKEN: optionalString.refine((value) => value === undefined || value.length >= 16, {
    message: 'GATEHOUSE_ADMIN_TOKEN must be at least 16 characters (try: openssl rand -hex 24)',
  }),
  GATEHOUSE_SECRET_KEY: optionalString.transform((value, context) => {
    if (value === undefined) return undefined;
    const key = decodeSecretKey(value);
    if (!key) {
      context.addIssue({
        code: 'custom',
        message:
          'GATEHOUSE_SECRET_KEY must be 32 bytes, as 64 hex characters or base64 (try: openssl rand -base64 32)',
      });
      return z.NEVER;
    }
    return key;
  }),
  GATEHOUSE_PUBLIC_URL: optionalString.refine((value) => value === undefined || URL.canParse(value), {
    message: 'GATEHOUSE_PUBLIC_URL must be an absolute URL such as https://gatehouse.example.com',
  }),
  GATEHOUSE_MAX_BODY_BYTES: integer('GATEHOUSE_MAX_BODY_BYTES', 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  GATEHOUSE_SHUTDOWN_GRACE_MS: integer('GATEHOUSE_SHUTDOWN_GRACE_MS', 25_000, 0, 600_000),
  GATEHOUSE_CLIENT_HEADERS_TIMEOUT_MS: integer('GATEHOUSE_CLIENT_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
  GATEHOUSE_CLIENT_REQUEST_TIMEOUT_MS: integer('GATEHOUSE_CLIENT_REQUEST_TIMEOUT_MS', 60_000, 100, 3_600_000),
  GATEHOUSE_CLIENT_IDLE_TIMEOUT_MS: integer('GATEHOUSE_CLIENT_IDLE_TIMEOUT_MS', 30_000, 100, 600_000),
  GATEHOUSE_TELEMETRY_MAX_BODY_BYTES: integer(
    'GATEHOUSE_TELEMETRY_MAX_BODY_BYTES',
    4 * 1024 * 1024,
    1024,
    1024 * 1024 * 1024,
  ),
  GATEHOUSE_TELEMETRY_KEY_BYTES_PER_MINUTE: integer(
    'GATEHOUSE_TELEMETRY_KEY_BYTES_PER_MINUTE',
    16 * 1024 * 1024,
    1024,
    16 * 1024 * 1024 * 1024,
  ),
  GATEHOUSE_TELEMETRY_ORG_BYTES_PER_MINUTE: integer(
    'GATEHOUSE_TELEMETRY_ORG_BYTES_PER_MINUTE',
    256 * 1024 * 1024,
    1024,
    64 * 1024 * 1024 * 1024,
  ),
  GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS: optionalString.transform((value, context) => {
    const ranges = (value ?? '')
      .split(',')
      .map((range) => range.trim())
      .filter((range) => range !== '');
    const bad = ranges.filter((range) => parseCidr(range) === undefined);
    if (bad.length > 0) {
      context.addIssue({
        code: 'custom',
        message: `GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS must be comma-separated CIDR ranges such as 10.20.0.0/16 or 127.0.0.1/32, got "${bad.join(', ')}"`,
      });
      return z.NEVER;
    }
    return ranges;
  }),
  GATEHOUSE_UPSTREAM_CONNECT_TIMEOUT_MS: integer(
    'GATEHOUSE_UPSTREAM_CONNECT_TIMEOUT_MS',
    10_000,
    100,
    600_000,
  ),
  GATEHOUSE_UPSTREAM_HEADERS_TIMEOUT_MS: integer(
    'GATEHOUSE_UPSTREAM_HEADERS_TIMEOUT_MS',
    600_000,
    100,
    3_600_000,
  ),
  GATEHOUSE_UPSTREAM_IDLE_TIMEOUT_MS: integer('GATEHOUSE_UPSTREAM_IDLE_TIMEOUT_MS', 600_000, 100, 3_600_000),
  GATEHOUSE_UPSTREAM_RETRIES: integer('GATEHOUSE_UPSTREAM_RETRIES', 0, 0, 5),
  GATEHOUSE_STREAM_KEEPALIVE_MS: integer('GATEHOUSE_STREAM_KEEPALIVE_MS', 5_000, 100, 600_000),
  GATEHOUSE_RESERVATION_OUTPUT_TOKENS: integer('GATEHOUSE_RESERVATION_OUTPUT_TOKENS', 4_096, 1, 1_000_000),
  GATEHOUSE_RESERVATION_TTL_MS: integer('GATEHOUSE_RESERVATION_TTL_MS', 900_000, 1_000, 86_400_000),
  GATEHOUSE_BUDGET_RESEED_MS: integer('GATEHOUSE_BUDGET_RESEED_MS', 10_000, 100, 3_600_000),
  GATEHOUSE_ALERT_WEBHOOK_URL: optionalString.refine(
    (value) => value === undefined || /^https?:\/\//.test(value),
    {
      message: 'GATEHOUSE_ALERT_WEBHOOK_URL must be an http:// or https:// URL',
    },
  ),
  GATEHOUSE_ALERT_WEBHOOK_SECRET: optionalString.refine(
    (value) => value === undefined || value.length >= 16,
    {
      message: 'GATEHOUSE_ALERT_WEBHOOK_SECRET must be at least 16 characters',
    },
  ),
  GATEHOUSE_KEY_CACHE_TTL_MS: integer('GATEHOUSE_KEY_CACHE_TTL_MS', 60_000, 0, 3_600_000),
  GATEHOUSE_CHANGE_POLL_MS: integer('GATEHOUSE_CHANGE_POLL_MS', 1_000, 50, 60_000),
  GATEHOUSE_USAGE_FLUSH_MS: integer('GATEHOUSE_USAGE_FLUSH_MS', 1_000, 10, 60_000),
  GATEHOUSE_OIDC_ISSUER: optionalString.refine(
    (value) => value === undefined || (URL.canParse(value) && isSecureOrLoopback(new URL(value))),
    {
      message: "GATEHOUSE_OIDC_ISSUER must be the provider's https:// issuer URL (http:// only on loopback)",
    },
  ),
  GATEHOUSE_OIDC_CLIENT_ID: optionalString,
  GATEHOUSE_OIDC_CLIENT_SECRET: optionalString,
  GATEHOUSE_DEV_SSO: optionalString.transform((value, context) => {
    if (value === undefined) return undefined;
    const emails = value
      .split(',')
      .map((email) => email.trim().toLowerCase())
      .filter((email) => email !== '');
    const malformed = emails.filter((email) => !z.email().safeParse(email).success);
    if (emails.length === 0 || malformed.length > 0) {
      context.addIssue({
        code: 'custom',
        message: `GATEHOUSE_DEV_SSO must be a comma-separated list of email addresses${
          malformed.length > 0 ? `, got "${malformed.join('", "')}"` : ''
        }`,
      });
      return z.NEVER;
    }
    return [...new Set(emails)];
  }),
  GATEHOUSE_SCIM_TOKEN: optionalString.refine((value) => value === undefined || value.length >= 24, {
    message: 'GATEHOUSE_SCIM_TOKEN must be at least 24 characters (try: openssl rand -hex 24)',
  }),
  FEATURE_FLAG_FORCE_ENABLE: optionalString.transform((value, context) => {
    const names = (value ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    const unknown = names.filter((name) => !isFeatureFlag(name));
    if (unknown.length > 0) {
      context.addIssue({
        code: 'custom',
        message: `FEATURE_FLAG_FORCE_ENABLE names unknown flags "${unknown.join('", "')}"; known: ${featureFlagNames.join(', ')}`,
      });
      return z.NEVER;
    }
    return new Set(names.filter(isFeatureFlag));
  }),
  GATEHOUSE_SESSION_TTL_SECONDS: integer('GATEHOUSE_SESSION_TTL_SECONDS', 43_200, 60, 2_592_000),
  GATEHOUSE_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug'], {
      message: 'GATEHOUSE_LOG_LEVEL must be one of fatal, error, warn, info, debug',
    })
    .optional()
    .default('info'),
});

function decodeSecretKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  const decoded = Buffer.from(text, 'base64');
  return decoded.length === 32 ? decoded : undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the settings; throws ConfigError listing every bad value at once. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const result = environmentSchema.safeParse(environment);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => issue.message));
  }
  const settings = result.data;
  if (settings.GATEHOUSE_ALERT_WEBHOOK_URL && !settings.GATEHOUSE_ALERT_WEBHOOK_SECRET) {
    throw new ConfigError([
      'GATEHOUSE_ALERT_WEBHOOK_SECRET is required with GATEHOUSE_ALERT_WEBHOOK_URL: alerts are signed',
    ]);
  }
  if (Boolean(settings.GATEHOUSE_OIDC_ISSUER) !== Boolean(settings.GATEHOUSE_OIDC_CLIENT_ID)) {
    throw new ConfigError(['GATEHOUSE_OIDC_ISSUER and GATEHOUSE_OIDC_CLIENT_ID must be set together']);
  }
  if (settings.GATEHOUSE_CLIENT_HEADERS_TIMEOUT_MS > settings.GATEHOUSE_CLIENT_REQUEST_TIMEOUT_MS) {
    throw new ConfigError([
      'GATEHOUSE_CLIENT_HEADERS_TIMEOUT_MS must not be longer than GATEHOUSE_CLIENT_REQUEST_TIMEOUT_MS: the headers are part of the request',
    ]);
  }
  const displayHost = settings.HOST.includes(':') ? `[${settings.HOST}]` : settings.HOST;
  if (settings.GATEHOUSE_DEV_SSO) {
    // The development IdP signs in anyone who picks a listed address, with no password: it must
    // never be reachable from another machine, nor stand beside a real provider.
    if (!isLoopbackHost(displayHost)) {
      throw new ConfigError([
        `GATEHOUSE_DEV_SSO signs people in without a password, so it needs HOST on loopback (127.0.0.1, ::1 or localhost), got "${settings.HOST}"`,
      ]);
    }
    const publicUrl = settings.GATEHOUSE_PUBLIC_URL;
    if (publicUrl !== undefined && !isLoopbackHost(new URL(publicUrl).hostname)) {
      throw new ConfigError([
        `GATEHOUSE_DEV_SSO needs GATEHOUSE_PUBLIC_URL on loopback too (a proxy in front would publish it), got "${publicUrl}"`,
      ]);
    }
    if (settings.GATEHOUSE_OIDC_ISSUER) {
      throw new ConfigError([
        'GATEHOUSE_DEV_SSO and GATEHOUSE_OIDC_ISSUER cannot both be set: the development IdP would replace your provider',
      ]);
    }
  }
  return {
    port: settings.PORT,
    host: settings.HOST,
    dataDir: settings.GATEHOUSE_DATA_DIR,
    databaseUrl: settings.DATABASE_URL,
    redisUrl: settings.REDIS_URL,
    adminToken: settings.GATEHOUSE_ADMIN_TOKEN,
    secretKey: settings.GATEHOUSE_SECRET_KEY,
    publicUrl: (settings.GATEHOUSE_PUBLIC_URL ?? `http://${displayHost}:${settings.PORT}`).replace(
      /\/+$/,
      '',
    ),
    maxBodyBytes: settings.GATEHOUSE_MAX_BODY_BYTES,
    shutdownGraceMs: settings.GATEHOUSE_SHUTDOWN_GRACE_MS,
    clientHeadersTimeoutMs: settings.GATEHOUSE_CLIENT_HEADERS_TIMEOUT_MS,
    clientRequestTimeoutMs: settings.GATEHOUSE_CLIENT_REQUEST_TIMEOUT_MS,
    clientIdleTimeoutMs: settings.GATEHOUSE_CLIENT_IDLE_TIMEOUT_MS,
    telemetryMaxBodyBytes: settings.GATEHOUSE_TELEMETRY_MAX_BODY_BYTES,
    telemetryKeyBytesPerMinute: settings.GATEHOUSE_TELEMETRY_KEY_BYTES_PER_MINUTE,
    telemetryOrganizationBytesPerMinute: settings.GATEHOUSE_TELEMETRY_ORG_BYTES_PER_MINUTE,
    upstreamAllowedNetworks: settings.GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS,
    upstreamConnectTimeoutMs: settings.GATEHOUSE_UPSTREAM_CONNECT_TIMEOUT_MS,
    upstreamHeadersTimeoutMs: settings.GATEHOUSE_UPSTREAM_HEADERS_TIMEOUT_MS,
    upstreamIdleTimeoutMs: settings.GATEHOUSE_UPSTREAM_IDLE_TIMEOUT_MS,
    upstreamRetries: settings.GATEHOUSE_UPSTREAM_RETRIES,
    streamKeepAliveMs: settings.GATEHOUSE_STREAM_KEEPALIVE_MS,
    reservationOutputTokens: settings.GATEHOUSE_RESERVATION_OUTPUT_TOKENS,
    reservationTtlMs: settings.GATEHOUSE_RESERVATION_TTL_MS,
    budgetReseedMs: settings.GATEHOUSE_BUDGET_RESEED_MS,
    alertWebhookUrl: settings.GATEHOUSE_ALERT_WEBHOOK_URL,
    alertWebhookSecret: settings.GATEHOUSE_ALERT_WEBHOOK_SECRET,
    keyCacheTtlMs: settings.GATEHOUSE_KEY_CACHE_TTL_MS,
    changePollMs: settings.GATEHOUSE_CHANGE_POLL_MS,
    usageFlushMs: settings.GATEHOUSE_USAGE_FLUSH_MS,
    logLevel: settings.GATEHOUSE_LOG_LEVEL,
    oidc:
      settings.GATEHOUSE_OIDC_ISSUER && settings.GATEHOUSE_OIDC_CLIENT_ID
        ? {
            issuer: settings.GATEHOUSE_OIDC_ISSUER,
            clientId: settings.GATEHOUSE_OIDC_CLIENT_ID,
            clientSecret: settings.GATEHOUSE_OIDC_CLIENT_SECRET,
          }
        : undefined,
    devSso: settings.GATEHOUSE_DEV_SSO ? { emails: settings.GATEHOUSE_DEV_SSO } : undefined,
    scimToken: settings.GATEHOUSE_SCIM_TOKEN,
    sessionTtlSeconds: settings.GATEHOUSE_SESSION_TTL_SECONDS,
    forcedFeatureFlags: settings.FEATURE_FLAG_FORCE_ENABLE,
  };
}
