import type { Organization } from '../store/organizations.js';
import { type FeatureFlagName, featureFlagNames } from '../store/schema.js';

export { type FeatureFlagName, featureFlagNames };

/** One release flag: what it hides in the web app and what it switches off in the admin API. */
export interface FeatureFlagDefinition {
  description: string;
  /**
   * On for an organisation that never switched it. Both flags default to on: they release parts
   * that already work, so a fresh install shows everything and an owner hides what their
   * organisation does not use, instead of having to discover switches before anything appears.
   */
  defaultEnabled: boolean;
  /** The web app's pages it hides (their links leave the navigation, their routes say "not available"). */
  pages: readonly string[];
  /** Admin API paths under `/api/admin` it gates: each path and everything below it answers 404 when off. */
  adminPaths: readonly string[];
}

/** Every release flag. A `Record` over the names: a flag without its definition is a compile error. */
export const FEATURE_FLAGS: Record<FeatureFlagName, FeatureFlagDefinition> = {
  release_ui_ai_gateway_menu_enabled: {
    description:
      'The AI-gateway menu: providers, routing policies, budgets, rate limits, virtual keys and their projects',
    defaultEnabled: true,
    pages: ['/providers', '/routing', '/budgets', '/rate-limits', '/keys'],
    adminPaths: ['/providers', '/routing-policies', '/budgets', '/rate-limits', '/virtual-keys', '/projects'],
  },
  release_ui_ai_governance_enabled: {
    description: 'The governance pages (/governance and /spend) and the governance summary API',
    defaultEnabled: true,
    pages: ['/governance', '/spend'],
    adminPaths: ['/governance'],
  },
};

export function isFeatureFlagName(value: string): value is FeatureFlagName {
  return (featureFlagNames as readonly string[]).includes(value);
}

/** One flag as an organisation has it: on or off, and whether the deployment forces it on. */
export interface EffectiveFlag {
  enabled: boolean;
  forced: boolean;
}

/**
 * Every flag's effective value for an organisation: forced on by the deployment
 * (FEATURE_FLAG_FORCE_ENABLE), else the owner's switch, else the default.
 */
export function effectiveFlags(
  organization: Pick<Organization, 'featureFlags'>,
  forced: ReadonlySet<FeatureFlagName>,
): Record<FeatureFlagName, EffectiveFlag> {
  const entries = featureFlagNames.map((name) => {
    const chosen = organization.featureFlags[name];
    const enabled = forced.has(name) || (chosen ?? FEATURE_FLAGS[name].defaultEnabled);
    return [name, { enabled, forced: forced.has(name) }] as const;
  });
  return Object.fromEntries(entries) as Record<FeatureFlagName, EffectiveFlag>;
}

/**
 * The flag gating an admin route, from its path below `/api/admin` (`/budgets/:id` → the gateway
 * menu's); undefined for a route no flag gates. Matches whole segments: `/providersX` is not `/providers`.
 */
export function flagGatingAdminPath(path: string): FeatureFlagName | undefined {
  return featureFlagNames.find((name) =>
    FEATURE_FLAGS[name].adminPaths.some((gated) => path === gated || path.startsWith(`${gated}/`)),
  );
}
