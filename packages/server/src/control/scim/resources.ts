import { isRecord, type JsonObject } from '@gatehouse/core';
import { z } from 'zod';
import type { ScimUserRow, TeamMember, TeamRow } from '../../store/scim.js';
import { invalidValue } from './errors.js';
import { booleanOf, lowerKeys } from './patch.js';

/**
 * The SCIM shapes of a person (User) and a team (Group), and how request bodies become our
 * fields. A person's email is their `userName`; the one team they are in is their one group.
 * @see https://www.rfc-editor.org/rfc/rfc7643#section-4
 */

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/** The most resources one page holds, advertised as `filter.maxResults`. */
export const MAX_PAGE_SIZE = 200;
const DEFAULT_PAGE_SIZE = 100;

export function userResource(row: ScimUserRow, base: string): JsonObject {
  const displayName = row.name ?? row.email;
  return {
    schemas: [USER_SCHEMA],
    id: row.id,
    ...(row.externalId === null ? {} : { externalId: row.externalId }),
    userName: row.email,
    name: { formatted: displayName },
    displayName,
    emails: [{ value: row.email, type: 'work', primary: true }],
    active: row.disabledAt === null,
    groups:
      row.teamId === null
        ? []
        : [{ value: row.teamId, display: row.teamName ?? row.teamId, $ref: `${base}/Groups/${row.teamId}` }],
    meta: { resourceType: 'User', created: row.createdAt.toISOString(), location: `${base}/Users/${row.id}` },
  };
}

/** `members` undefined leaves the attribute out (`excludedAttributes=members`). */
export function groupResource(row: TeamRow, members: TeamMember[] | undefined, base: string): JsonObject {
  return {
    schemas: [GROUP_SCHEMA],
    id: row.id,
    ...(row.externalId === null ? {} : { externalId: row.externalId }),
    displayName: row.name,
    ...(members === undefined
      ? {}
      : {
          members: members.map((member) => ({
            value: member.id,
            display: member.name ?? member.email,
            type: 'User',
            $ref: `${base}/Users/${member.id}`,
          })),
        }),
    meta: {
      resourceType: 'Group',
      created: row.createdAt.toISOString(),
      location: `${base}/Groups/${row.id}`,
    },
  };
}

export function listResponse(resources: JsonObject[], total: number, startIndex: number): JsonObject {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: total,
    itemsPerPage: resources.length,
    startIndex,
    Resources: resources,
  };
}

/** §3.4.2.4: `startIndex` is 1-based and below 1 means 1; `count` below 0 means 0. */
export function readPage(query: Record<string, unknown>): {
  startIndex: number;
  offset: number;
  limit: number;
} {
  const startIndex = Math.max(1, integerParameter(query.startIndex, 'startIndex') ?? 1);
  const count = integerParameter(query.count, 'count') ?? DEFAULT_PAGE_SIZE;
  return { startIndex, offset: startIndex - 1, limit: Math.min(MAX_PAGE_SIZE, Math.max(0, count)) };
}

function integerParameter(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value.trim())) {
    throw invalidValue(`${name} must be one integer.`);
  }
  return Number(value);
}

export function stringParameter(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidValue(`${name} must be given once.`);
  return value;
}

/** Whether `excludedAttributes` (a comma-separated list) names `attribute`. */
export function excludes(query: Record<string, unknown>, attribute: string): boolean {
  const value = stringParameter(query, 'excludedAttributes');
  return (value ?? '')
    .split(',')
    .some((name) => name.trim().toLowerCase().replace(`${GROUP_SCHEMA.toLowerCase()}:`, '') === attribute);
}

const optionalText = (max: number) => z.string().trim().max(max).nullish();
/** Entra ID sends booleans as "True" / "False". */
const booleanish = z.union([
  z.boolean(),
  z.string().transform((value, context) => {
    const parsed = booleanOf(value);
    if (parsed === undefined) {
      context.addIssue({ code: 'custom', message: 'must be true or false' });
      return z.NEVER;
    }
    return parsed;
  }),
]);

/** Bodies and patched resources are read with lower-case attribute names; unknown ones are ignored. */
const userBody = z.object({
  username: z
    .string()
    .trim()
    .min(3)
    .max(320)
    .regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address'),
  externalid: optionalText(256),
  displayname: optionalText(200),
  name: z
    .object({ formatted: optionalText(200), givenname: optionalText(100), familyname: optionalText(100) })
    .nullish(),
  active: booleanish.nullish(),
});

export interface UserInput {
  email: string;
  name: string | null;
  externalId: string | null;
  /** Undefined when the body leaves it out: leaving it out never deactivates anyone. */
  active: boolean | undefined;
}

/**
 * Our fields from a User body or a patched User. One name is kept: `name.formatted`, else given
 * and family name, else `displayName`, except that whichever a PATCH just wrote wins (`touched`).
 */
export function readUser(body: unknown, touched?: Set<string>): UserInput {
  if (!isRecord(body)) throw invalidValue('The body must be a JSON object.');
  const parsed = userBody.safeParse(lowerKeys(body));
  if (!parsed.success) throw invalidValue(describeIssues(parsed.error));
  const { username, externalid, displayname, name, active } = parsed.data;
  const joined = [name?.givenname, name?.familyname].filter((part) => part).join(' ');
  const candidates: Array<{ value: string | null | undefined; paths: string[] }> = [
    { value: name?.formatted, paths: ['name.formatted'] },
    { value: joined, paths: ['name.givenname', 'name.familyname'] },
    { value: displayname, paths: ['displayname'] },
  ];
  const present = candidates.filter((candidate) => candidate.value);
  const chosen =
    present.find((candidate) => candidate.paths.some((path) => touched?.has(path))) ?? present[0];
  return {
    email: username.toLowerCase(),
    name: chosen?.value || null,
    externalId: externalid || null,
    active: active ?? undefined,
  };
}

/** A user as a PATCH starts from: what we store of it, with lower-case attribute names. */
export function userState(row: ScimUserRow): JsonObject {
  return {
    username: row.email,
    externalid: row.externalId,
    ...(row.name === null ? {} : { displayname: row.name, name: { formatted: row.name } }),
    emails: [{ value: row.email, type: 'work', primary: true }],
    active: row.disabledAt === null,
  };
}

const groupBody = z.object({
  displayname: z.string().trim().min(1).max(200),
  externalid: optionalText(256),
  members: z
    .array(z.object({ value: z.string().trim().min(1).max(64) }))
    .max(10_000)
    .nullish(),
});

export interface GroupInput {
  name: string;
  externalId: string | null;
  /** Undefined when the body leaves `members` out: the members stay as they are. */
  memberIds: string[] | undefined;
}

export function readGroup(body: unknown): GroupInput {
  if (!isRecord(body)) throw invalidValue('The body must be a JSON object.');
  const parsed = groupBody.safeParse(lowerKeys(body));
  if (!parsed.success) throw invalidValue(describeIssues(parsed.error));
  const { displayname, externalid, members } = parsed.data;
  return {
    name: displayname,
    externalId: externalid || null,
    memberIds:
      members === undefined ? undefined : [...new Set((members ?? []).map((member) => member.value))],
  };
}

export function groupState(row: TeamRow, members: TeamMember[]): JsonObject {
  return {
    displayname: row.name,
    externalid: row.externalId,
    members: members.map((member) => ({ value: member.id, display: member.name ?? member.email })),
  };
}

/** Issues named by the SCIM attribute, for the `detail` an administrator reads in the IdP's log. */
function describeIssues(error: z.ZodError): string {
  const names: Record<string, string> = {
    username: 'userName',
    externalid: 'externalId',
    displayname: 'displayName',
    givenname: 'givenName',
    familyname: 'familyName',
  };
  return error.issues
    .map((issue) => {
      const path = issue.path.map((part) => names[String(part)] ?? String(part)).join('.');
      return `${path || 'body'}: ${issue.message}`;
    })
    .join('; ');
}
