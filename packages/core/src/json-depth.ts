/**
 * How deeply a client's JSON may nest before the gateway refuses to walk it. Translators, schema
 * converters and `JSON.stringify` recurse; a body nested thousands deep would overflow the stack
 * inside the gateway. Real tool schemas nest a dozen levels; a hundred leaves room for any of them.
 */
export const MAX_JSON_DEPTH = 100;

/**
 * Whether a parsed JSON value nests objects and arrays deeper than `limit`. Walks with an explicit
 * stack, so it cannot overflow the call stack itself, and stops at the first branch too deep.
 */
export function jsonNestsDeeperThan(value: unknown, limit: number = MAX_JSON_DEPTH): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > limit) return true;
    const children = Array.isArray(next.value) ? next.value : Object.values(next.value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth });
    }
  }
  return false;
}
