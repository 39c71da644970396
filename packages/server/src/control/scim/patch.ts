import { isRecord, type JsonObject } from '@gatehouse/core';
import { filter as compileFilter, type Filter, parse as parseFilter } from 'scim2-parse-filter';
import { invalidPath, invalidSyntax, invalidValue, noTarget, ScimError } from './errors.js';

/**
 * RFC 7644 §3.5.2 PATCH, applied to a resource's JSON. Pure: the caller turns the resource into
 * JSON with lower-case attribute names (SCIM names are case-insensitive), applies the operations,
 * and reads the result back exactly as it reads a PUT body, so both are validated the same way.
 * @see https://www.rfc-editor.org/rfc/rfc7644#section-3.5.2
 */

export type PatchOpName = 'add' | 'replace' | 'remove';

export interface PatchOperation {
  op: PatchOpName;
  path: string | undefined;
  value: unknown;
}

export interface PatchResult {
  resource: JsonObject;
  /** Lower-case paths written (`active`, `name.givenname`, `members`), for rules that need to know. */
  touched: Set<string>;
}

/** More operations than any identity provider sends in one request. */
const MAX_OPERATIONS = 1_000;

const opNames = new Set<string>(['add', 'replace', 'remove']);

/** Reads a PatchOp body. Operation names are case-insensitive: Entra ID sends `Replace`. */
export function readPatchRequest(body: unknown): PatchOperation[] {
  if (!isRecord(body)) throw invalidSyntax('The body must be a PatchOp JSON object.');
  const operations = member(body, 'operations');
  if (!Array.isArray(operations) || operations.length === 0) {
    throw invalidSyntax('Operations must be a non-empty array.');
  }
  if (operations.length > MAX_OPERATIONS) {
    throw new ScimError(413, 'tooMany', `At most ${MAX_OPERATIONS} operations per request.`);
  }
  return operations.map((entry: unknown, index): PatchOperation => {
    if (!isRecord(entry)) throw invalidSyntax(`Operations[${index}] must be an object.`);
    const [op, path, value] = [member(entry, 'op'), member(entry, 'path'), member(entry, 'value')];
    const name = typeof op === 'string' ? op.toLowerCase() : '';
    if (!opNames.has(name)) throw invalidSyntax(`Operations[${index}].op must be add, replace or remove.`);
    if (path !== undefined && (typeof path !== 'string' || path.trim() === '')) {
      throw invalidPath(`Operations[${index}].path must be a non-empty string.`);
    }
    if (name === 'remove' && path === undefined) throw noTarget(`Operations[${index}]: remove needs a path.`);
    if (name !== 'remove' && value === undefined) throw invalidValue(`Operations[${index}] needs a value.`);
    return { op: name as PatchOpName, path: path as string | undefined, value };
  });
}

type ParsedPath =
  | {
      kind: 'attribute';
      attribute: string;
      valueFilter: Filter | undefined;
      subAttribute: string | undefined;
    }
  /** The resource's own schema URN as a path: its value is a set of attributes. */
  | { kind: 'root' }
  /** An extension schema's attribute (Entra's enterprise `manager`): not stored here. */
  | { kind: 'ignored' };

const PATH = /^([A-Za-z][\w$-]*)(?:\[(.+)\])?(?:\.([A-Za-z][\w$-]*))?$/s;

/** Longer than any attribute path with a value filter an identity provider writes. */
const MAX_PATH_LENGTH = 1_000;

export function parsePath(path: string, schema: string): ParsedPath {
  if (path.length > MAX_PATH_LENGTH) throw invalidPath(`A path is at most ${MAX_PATH_LENGTH} characters.`);
  let rest = path.trim();
  if (/^urn:/i.test(rest)) {
    const prefix = schema.toLowerCase();
    const lower = rest.toLowerCase();
    if (lower === prefix) return { kind: 'root' };
    if (!lower.startsWith(`${prefix}:`)) return { kind: 'ignored' };
    rest = rest.slice(prefix.length + 1);
  }
  const match = PATH.exec(rest);
  if (!match) throw invalidPath(`Cannot read the path '${path}'.`);
  let valueFilter: Filter | undefined;
  if (match[2] !== undefined) {
    try {
      valueFilter = parseFilter(match[2]);
    } catch (error) {
      throw invalidPath(`Cannot read the filter in '${path}': ${(error as Error).message}`);
    }
  }
  return {
    kind: 'attribute',
    attribute: (match[1] as string).toLowerCase(),
    valueFilter,
    subAttribute: match[3]?.toLowerCase(),
  };
}

export function applyPatch(resource: JsonObject, operations: PatchOperation[], schema: string): PatchResult {
  const state = lowerKeys(structuredClone(resource)) as JsonObject;
  const touched = new Set<string>();
  for (const operation of operations) {
    if (operation.path === undefined) {
      // Without a path the value is a set of attributes (§3.5.2.1, §3.5.2.3). Entra ID writes
      // paths as its keys (`{"name.givenName": "Ann"}`), so each key is read as a path.
      applyAt(state, { kind: 'root' }, operation.op, operation.value, touched, schema);
    } else {
      applyAt(state, parsePath(operation.path, schema), operation.op, operation.value, touched, schema);
    }
  }
  return { resource: state, touched };
}

function applyAt(
  state: JsonObject,
  path: ParsedPath,
  op: PatchOpName,
  rawValue: unknown,
  touched: Set<string>,
  schema: string,
): void {
  if (path.kind === 'ignored') return;
  if (path.kind === 'root') {
    if (op === 'remove') throw noTarget('remove needs the path of an attribute.');
    if (!isRecord(rawValue)) throw invalidValue(`${op} without a path needs an object of attributes.`);
    for (const [key, value] of Object.entries(rawValue)) {
      if (key.toLowerCase() === 'schemas') continue;
      applyAt(state, parsePath(key, schema), op, value, touched, schema);
    }
    return;
  }
  const value = lowerKeys(rawValue);
  const { attribute, valueFilter, subAttribute } = path;
  touched.add(attribute);
  if (subAttribute !== undefined) touched.add(`${attribute}.${subAttribute}`);
  else if (isRecord(value)) for (const key of Object.keys(value)) touched.add(`${attribute}.${key}`);

  if (valueFilter !== undefined) {
    applyToMatching(state, attribute, valueFilter, subAttribute, op, value);
  } else if (subAttribute !== undefined) {
    applyToSubAttribute(state, attribute, subAttribute, op, value);
  } else if (op === 'remove') {
    const current = state[attribute];
    const removed = Array.isArray(value) ? value.filter(isRecord).map((element) => element.value) : [];
    if (Array.isArray(current) && removed.length > 0) {
      // Entra ID names the members to remove in the value rather than in a path filter.
      state[attribute] = current.filter((element) => !(isRecord(element) && removed.includes(element.value)));
    } else {
      delete state[attribute];
    }
  } else {
    const current = state[attribute];
    if (Array.isArray(current) && op === 'add') {
      // §3.5.2.1: add to a multi-valued attribute appends; an equal `value` is not duplicated.
      state[attribute] = mergeValues(current, Array.isArray(value) ? value : [value]);
    } else if (isRecord(current) && isRecord(value)) {
      // §3.5.2.1, §3.5.2.3: a complex value's sub-attributes are set, the others left alone.
      Object.assign(current, value);
    } else {
      state[attribute] = value;
    }
  }
}

function applyToSubAttribute(
  state: JsonObject,
  attribute: string,
  subAttribute: string,
  op: PatchOpName,
  value: unknown,
): void {
  const current = state[attribute];
  if (Array.isArray(current)) {
    // `emails.value` on a multi-valued attribute: every value's sub-attribute.
    for (const element of current) {
      if (!isRecord(element)) continue;
      if (op === 'remove') delete element[subAttribute];
      else element[subAttribute] = value;
    }
    if (current.length === 0 && op !== 'remove') current.push({ [subAttribute]: value });
    return;
  }
  if (op === 'remove') {
    if (isRecord(current)) delete current[subAttribute];
    return;
  }
  if (isRecord(current)) current[subAttribute] = value;
  else state[attribute] = { [subAttribute]: value };
}

function applyToMatching(
  state: JsonObject,
  attribute: string,
  valueFilter: Filter,
  subAttribute: string | undefined,
  op: PatchOpName,
  value: unknown,
): void {
  const current = state[attribute];
  const elements: unknown[] = Array.isArray(current) ? current : [];
  const matches = compileFilter(valueFilter);
  if (op === 'remove') {
    if (subAttribute === undefined) {
      // `members[value eq "usr_…"]`: those values leave. None matching is already the goal.
      state[attribute] = elements.filter((element) => !matches(element));
    } else {
      for (const element of elements) if (isRecord(element) && matches(element)) delete element[subAttribute];
    }
    return;
  }
  const matching = elements.filter((element): element is JsonObject => isRecord(element) && matches(element));
  if (matching.length === 0) {
    // `emails[type eq "work"].value` on a resource without one: the filter's values and the
    // operation's value make the new element.
    const seed = equalities(valueFilter);
    if (seed === undefined) throw noTarget(`Nothing in ${attribute} matches the path's filter.`);
    const element = subAttribute === undefined ? objectValue(value) : { [subAttribute]: value };
    state[attribute] = [...elements, { ...seed, ...element }];
    return;
  }
  for (const element of matching) {
    if (subAttribute !== undefined) element[subAttribute] = value;
    else Object.assign(element, objectValue(value));
  }
  state[attribute] = elements;
}

/** A filter made only of `eq` joined by `and`, as the attributes it pins; else undefined. */
function equalities(node: Filter): JsonObject | undefined {
  if (node.op === 'eq') return { [node.attrPath.toLowerCase()]: node.compValue };
  if (node.op !== 'and') return undefined;
  const merged: JsonObject = {};
  for (const child of node.filters) {
    const part = equalities(child);
    if (!part) return undefined;
    Object.assign(merged, part);
  }
  return merged;
}

function objectValue(value: unknown): JsonObject {
  if (!isRecord(value))
    throw invalidValue('A value filter path without a sub-attribute needs an object value.');
  return value;
}

function mergeValues(current: unknown[], added: unknown[]): unknown[] {
  const merged = [...current];
  for (const value of added) {
    const key = isRecord(value) ? value.value : undefined;
    const existing =
      key === undefined ? -1 : merged.findIndex((element) => isRecord(element) && element.value === key);
    if (existing >= 0) merged[existing] = { ...(merged[existing] as JsonObject), ...(value as JsonObject) };
    else merged.push(value);
  }
  return merged;
}

/** Entra ID writes booleans as the strings "True" and "False". */
export function booleanOf(value: string): boolean | undefined {
  const lower = value.trim().toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

/** A property by its case-insensitive name. */
function member(object: JsonObject, name: string): unknown {
  const key = Object.keys(object).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : object[key];
}

/** The same JSON with every object key lower-cased, at any depth. */
export function lowerKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(lowerKeys);
  if (!isRecord(value)) return value;
  const lowered: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    const name = key.toLowerCase();
    // "__PROTO__" gets past the JSON parser's check; lower-cased it would set a prototype.
    if (name !== '__proto__') lowered[name] = lowerKeys(child);
  }
  return lowered;
}
