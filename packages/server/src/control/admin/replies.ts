import { z } from 'zod';
import { DuplicateNameError } from '../../store/unique-names.js';
import { errorSchema } from './schemas.js';

/** What every admin route shares: its security requirement and its error answers. */

export const security = [{ adminToken: [] }];

export const errorResponses = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema };

/** The 204 of a DELETE. */
export const deletedResponse = z.null().describe('Deleted');

export function adminError(code: string, message: string) {
  return { error: { code, message } };
}

export const notFound = (what: string) => adminError('not_found', `${what} not found`);

/** A provider type this build has no adapter for (a row written by a newer version, or a typo). */
export const unsupportedProvider = (type: string) =>
  adminError('unsupported_provider', `Provider type '${type}' is not supported by this version.`);

/** What the admin API answers for a path no route serves (and for one a disabled release flag hides). */
export const noRoute = (method: string, path: string) =>
  adminError('not_found', `No route for ${method} ${path}`);

/** A 409 body naming what still uses the object, so the caller knows what to change first. */
export function inUse(what: string, users: { kind: string; ids: string[] }[]) {
  const named = users
    .filter((user) => user.ids.length > 0)
    .map((user) => `${user.kind} ${user.ids.join(', ')}`)
    .join('; ');
  return adminError('in_use', `The ${what} is in use by ${named}.`);
}

/** Whether `inUse` has anything to name. */
export const anyUsers = (users: { ids: string[] }[]) => users.some((user) => user.ids.length > 0);

/**
 * Waits for a create or rename; a name already taken comes back as the 409 body to send rather
 * than as an exception.
 */
export async function nameChecked<T>(
  work: Promise<T>,
): Promise<{ value: T } | { conflict: ReturnType<typeof adminError> }> {
  try {
    return { value: await work };
  } catch (error) {
    if (error instanceof DuplicateNameError) return { conflict: adminError('already_exists', error.message) };
    throw error;
  }
}
