import { type Filter, parse } from 'scim2-parse-filter';
import type { Query, TeamTerm, UserTerm } from '../../store/scim.js';
import { invalidFilter } from './errors.js';
import { booleanOf } from './patch.js';
import { GROUP_SCHEMA, USER_SCHEMA } from './resources.js';

/**
 * SCIM filters → the store's neutral terms. The supported subset is what identity providers send
 * to match a resource before creating it: `eq` on an identifying attribute, joined with `and`.
 * Anything else is refused as `invalidFilter` rather than answered with a wrong list.
 * @see https://www.rfc-editor.org/rfc/rfc7644#section-3.4.2.2
 */

/** Longer filters are not a lookup an identity provider makes. */
const MAX_FILTER_LENGTH = 1_000;

type Target<Term> =
  | { kind: 'term'; make(value: string | boolean): Term | undefined }
  /** A sub-attribute with one fixed value on every resource (our one email is the primary work one). */
  | { kind: 'constant'; value: string | boolean };

interface Vocabulary<Term> {
  schema: string;
  /** Lower-case attribute paths (`emails.value`) → what they mean here. */
  targets: Record<string, Target<Term>>;
}

const text =
  <Term>(make: (value: string) => Term) =>
  (value: string | boolean): Term | undefined =>
    typeof value === 'string' ? make(value) : undefined;

const userVocabulary: Vocabulary<UserTerm> = {
  schema: USER_SCHEMA,
  targets: {
    id: { kind: 'term', make: text((value) => ({ attribute: 'id', value })) },
    username: { kind: 'term', make: text((value) => ({ attribute: 'email', value })) },
    'emails.value': { kind: 'term', make: text((value) => ({ attribute: 'email', value })) },
    'emails.type': { kind: 'constant', value: 'work' },
    'emails.primary': { kind: 'constant', value: true },
    externalid: { kind: 'term', make: text((value) => ({ attribute: 'externalId', value })) },
    active: {
      kind: 'term',
      make: (value) => {
        const active = typeof value === 'string' ? booleanOf(value) : value;
        return active === undefined ? undefined : { attribute: 'active', value: active };
      },
    },
  },
};

const groupVocabulary: Vocabulary<TeamTerm> = {
  schema: GROUP_SCHEMA,
  targets: {
    id: { kind: 'term', make: text((value) => ({ attribute: 'id', value })) },
    displayname: { kind: 'term', make: text((value) => ({ attribute: 'displayName', value })) },
    externalid: { kind: 'term', make: text((value) => ({ attribute: 'externalId', value })) },
    'members.value': { kind: 'term', make: text((value) => ({ attribute: 'member', value })) },
  },
};

export function userQuery(filter: string | undefined): Query<UserTerm> {
  return translate(filter, userVocabulary);
}

export function groupQuery(filter: string | undefined): Query<TeamTerm> {
  return translate(filter, groupVocabulary);
}

function translate<Term>(filter: string | undefined, vocabulary: Vocabulary<Term>): Query<Term> {
  const query: Query<Term> = { terms: [], matchesNothing: false };
  if (filter === undefined || filter.trim() === '') return query;
  if (filter.length > MAX_FILTER_LENGTH) {
    throw invalidFilter(`The filter is longer than ${MAX_FILTER_LENGTH} characters.`);
  }
  let tree: Filter;
  try {
    tree = parse(filter);
  } catch (error) {
    throw invalidFilter(`The filter cannot be parsed: ${(error as Error).message}`);
  }
  collect(tree, vocabulary, query, undefined);
  return query;
}

function collect<Term>(
  node: Filter,
  vocabulary: Vocabulary<Term>,
  query: Query<Term>,
  parent: string | undefined,
): void {
  switch (node.op) {
    case 'and':
      for (const child of node.filters) collect(child, vocabulary, query, parent);
      return;
    case '[]': {
      if (parent !== undefined) throw invalidFilter('Nested value filters are not supported.');
      collect(node.valFilter, vocabulary, query, attributeName(node.attrPath, vocabulary.schema));
      return;
    }
    case 'eq': {
      const name = attributeName(node.attrPath, vocabulary.schema);
      const path = parent === undefined ? name : `${parent}.${name}`;
      const target = vocabulary.targets[path];
      if (!target) throw invalidFilter(`Filtering on '${node.attrPath}' is not supported.`);
      if (target.kind === 'constant') {
        if (!sameValue(target.value, node.compValue)) query.matchesNothing = true;
        return;
      }
      const value = node.compValue;
      const term = typeof value === 'string' || typeof value === 'boolean' ? target.make(value) : undefined;
      if (term === undefined) {
        throw invalidFilter(`'${node.attrPath}' cannot equal ${JSON.stringify(node.compValue)}.`);
      }
      query.terms.push(term);
      return;
    }
    default:
      throw invalidFilter(`The '${node.op}' operator is not supported; use 'eq', joined with 'and'.`);
  }
}

/** Lower-case, without the resource's schema URN (`urn:…:core:2.0:User:userName` → `username`). */
function attributeName(path: string, schema: string): string {
  const lower = path.toLowerCase();
  const prefix = `${schema.toLowerCase()}:`;
  return lower.startsWith(prefix) ? lower.slice(prefix.length) : lower;
}

function sameValue(expected: string | boolean, actual: unknown): boolean {
  if (typeof expected === 'boolean') {
    return typeof actual === 'string' ? booleanOf(actual) === expected : actual === expected;
  }
  return typeof actual === 'string' && actual.toLowerCase() === expected;
}
