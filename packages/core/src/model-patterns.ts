/**
 * Model lists that name models exactly (`gpt-4o`) or by `*` patterns (`claude-*`, `gpt-4.1*`):
 * `*` matches any run of characters, everything else is literal.
 */

export function isModelPattern(entry: string): boolean {
  return entry.includes('*');
}

/** Compiled once per pattern: model lists are checked on every request. */
const compiled = new Map<string, RegExp>();

export function matchesModelPattern(pattern: string, model: string): boolean {
  if (!isModelPattern(pattern)) return pattern === model;
  let expression = compiled.get(pattern);
  if (!expression) {
    const parts = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
    expression = new RegExp(`^${parts.join('.*')}$`);
    if (compiled.size >= 1_000) compiled.clear();
    compiled.set(pattern, expression);
  }
  return expression.test(model);
}

/** A model list split for fast lookups: exact ids in a set, patterns tried in order. */
export interface ModelList {
  exact: ReadonlySet<string>;
  patterns: readonly string[];
}

export function modelListOf(entries: readonly string[]): ModelList {
  return {
    exact: new Set(entries.filter((entry) => !isModelPattern(entry))),
    patterns: entries.filter(isModelPattern),
  };
}

export function modelListIncludes(list: ModelList, model: string): boolean {
  return list.exact.has(model) || list.patterns.some((pattern) => matchesModelPattern(pattern, model));
}
