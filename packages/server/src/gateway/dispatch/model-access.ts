import type { EffectivePolicy } from '../auth/authenticator.js';

/** `claude-*` style patterns: `*` matches any run of characters, everything else literally. */
function matches(pattern: string, model: string): boolean {
  if (!pattern.includes('*')) return pattern === model;
  const expression = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${expression.join('.*')}$`).test(model);
}

/**
 * Whether a policy lets its keys use a model. Both the name asked for and what an alias resolves
 * to are checked: a denial cannot be dodged through an alias, and an allowed alias needs no entry
 * for its target.
 */
export function isModelAllowed(policy: EffectivePolicy, requested: string, resolved: string): boolean {
  const names = requested === resolved ? [requested] : [requested, resolved];
  if (policy.deniedModels.some((pattern) => names.some((name) => matches(pattern, name)))) return false;
  if (!policy.allowedModels) return true;
  return policy.allowedModels.some((pattern) => names.some((name) => matches(pattern, name)));
}
