import { GatewayError, isWellFormedVirtualKey, modelListOf } from '@gatehouse/core';
import { inArray } from 'drizzle-orm';
import type { SecretBox } from '../../security/secret-box.js';
import type { Database } from '../../store/database.js';
import { openProviderSecret, type ProviderRow } from '../../store/providers.js';
import { getDefaultRoutingPolicy, getRoutingPolicy } from '../../store/routing-policies.js';
import { providerCredentials } from '../../store/schema.js';
import { findKeyByHash } from '../../store/virtual-keys.js';
import type { ProviderTarget } from '../providers/types.js';

/** The routing a key's project gets: its own policy or the organisation's default. */
export interface EffectivePolicy {
  id: string | undefined;
  /** Credentials in the policy's order, already decrypted. */
  providers: readonly ProviderTarget[];
  modelAliases: Readonly<Record<string, string>>;
  /** What keys under the policy may ask for; undefined allows every model. */
  allowedModels: readonly string[] | undefined;
  deniedModels: readonly string[];
}

/** Who a key acts for and what it may reach: the claims every usage event is labelled with. */
export interface ResolvedKey {
  keyId: string;
  organizationId: string;
  projectId: string;
  /** The project's team, if it belongs to one. */
  teamId: string | undefined;
  /** The person for personal keys; the key itself for service keys. */
  principalId: string;
  personal: boolean;
  expiresAt: number | undefined;
  revokedAt: number | undefined;
  policy: EffectivePolicy;
}

/** How long a caller is asked to wait when the store cannot be read. */
const STORAGE_RETRY_AFTER_SECONDS = 5;

interface CacheEntry {
  /** Undefined caches "no such key", so a flood of well-formed fakes costs one read each at most. */
  resolved: ResolvedKey | undefined;
  loadedAt: number;
}

export interface AuthenticatorOptions {
  /** How long a resolved key is trusted before re-reading it (a safety net behind eviction). */
  cacheTtlMs: number;
  /** Bound on cached keys; the oldest are dropped first. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Turns the key a client presents into a resolved identity and policy. The format check needs
 * no I/O, hits are served from memory, and revocation or a policy change evicts at once.
 */
export class Authenticator {
  readonly #db: Database;
  readonly #box: SecretBox;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #loading = new Map<string, Promise<CacheEntry>>();
  /** Bumped on every eviction, so a load that started before it is not cached after it. */
  #generation = 0;

  constructor(db: Database, box: SecretBox, options: AuthenticatorOptions) {
    this.#db = db;
    this.#box = box;
    this.#ttlMs = options.cacheTtlMs;
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  async authenticate(presented: string | undefined): Promise<ResolvedKey> {
    if (presented === undefined || presented === '') {
      throw new GatewayError(
        'missing_key',
        'No API key was provided. Send your Gatehouse key as a Bearer token.',
      );
    }
    if (!isWellFormedVirtualKey(presented)) {
      throw new GatewayError('invalid_key', 'The API key is not a valid Gatehouse key.');
    }
    const hash = this.#box.hashVirtualKey(presented);
    const now = this.#now();
    let entry = this.#cache.get(hash);
    if (!entry || now - entry.loadedAt >= this.#ttlMs) entry = await this.#load(hash);
    const resolved = entry.resolved;
    if (!resolved) throw new GatewayError('invalid_key', 'The API key is not a valid Gatehouse key.');
    if (resolved.revokedAt !== undefined)
      throw new GatewayError('key_revoked', 'The API key has been revoked.');
    if (resolved.expiresAt !== undefined && resolved.expiresAt <= now) {
      throw new GatewayError('key_expired', 'The API key has expired.');
    }
    return resolved;
  }

  /** Drops every cached key: called on revocation and on any policy or provider change. */
  invalidateAll(): void {
    this.#generation += 1;
    this.#cache.clear();
  }

  #load(hash: string): Promise<CacheEntry> {
    let loading = this.#loading.get(hash);
    if (!loading) {
      const generation = this.#generation;
      loading = this.#read(hash)
        .then((resolved) => {
          const entry = { resolved, loadedAt: this.#now() };
          if (generation === this.#generation) this.#remember(hash, entry);
          return entry;
        })
        .catch((error: unknown) => {
          // The key cannot be checked, so the call cannot be served; an honest, retryable 503.
          throw new GatewayError(
            'storage_unavailable',
            'Keys cannot be checked right now (storage is unreachable); retry shortly.',
            { cause: error, headers: { 'retry-after': String(STORAGE_RETRY_AFTER_SECONDS) } },
          );
        })
        .finally(() => this.#loading.delete(hash));
      this.#loading.set(hash, loading);
    }
    return loading;
  }

  #remember(hash: string, entry: CacheEntry): void {
    this.#cache.delete(hash);
    if (this.#cache.size >= this.#maxEntries) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(hash, entry);
  }

  async #read(hash: string): Promise<ResolvedKey | undefined> {
    const found = await findKeyByHash(this.#db, hash);
    if (!found) return undefined;
    const { key, project } = found;
    return {
      keyId: key.id,
      organizationId: key.organizationId,
      projectId: key.projectId,
      teamId: project.teamId ?? undefined,
      principalId: key.userId ?? key.id,
      personal: key.kind === 'personal',
      expiresAt: key.expiresAt?.getTime(),
      revokedAt: key.revokedAt?.getTime(),
      policy: await this.policyFor(project.organizationId, project.routingPolicyId),
    };
  }

  /**
   * The policy a project with this `routingPolicyId` gets (null: the organisation's default), with
   * its credentials decrypted in the policy's order: what a key's calls are routed by. Public so
   * the admin preview routes exactly as a call does.
   */
  async policyFor(organizationId: string, routingPolicyId: string | null): Promise<EffectivePolicy> {
    const policy = routingPolicyId
      ? await getRoutingPolicy(this.#db, organizationId, routingPolicyId)
      : await getDefaultRoutingPolicy(this.#db, organizationId);
    if (!policy)
      return { id: undefined, providers: [], modelAliases: {}, allowedModels: undefined, deniedModels: [] };
    const rows =
      policy.providerIds.length === 0
        ? []
        : await this.#db
            .select()
            .from(providerCredentials)
            .where(inArray(providerCredentials.id, policy.providerIds));
    const byId = new Map(rows.map((row) => [row.id, row]));
    const providers = policy.providerIds
      .map((id) => byId.get(id))
      .filter((row): row is ProviderRow => row !== undefined)
      .map((row) => this.credentialTarget(row));
    return {
      id: policy.id,
      providers,
      modelAliases: policy.modelAliases,
      allowedModels: policy.allowedModels ?? undefined,
      deniedModels: policy.deniedModels,
    };
  }

  /** A stored credential as the gateway calls it: decrypted. */
  credentialTarget(row: ProviderRow): ProviderTarget {
    const secret = openProviderSecret(this.#box, row);
    return {
      id: row.id,
      name: row.name,
      type: row.type,
      baseUrl: row.baseUrl ?? undefined,
      apiKey: secret.apiKey,
      secret,
      settings: row.settings,
      forwardIdentity: row.forwardIdentity,
      models: row.models ? modelListOf(row.models) : undefined,
      priceOverrides: row.priceOverrides,
      defaultPrice: row.defaultPrice ?? undefined,
    };
  }
}
