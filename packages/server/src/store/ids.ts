import { randomBytes } from 'node:crypto';

/** Prefixed random ids (`prov_…`, `vk_…`): readable in logs, unguessable, sortable by nothing. */
export function newId(
  prefix:
    | 'org'
    | 'team'
    | 'usr'
    | 'prov'
    | 'pol'
    | 'proj'
    | 'vk'
    | 'bud'
    | 'rl'
    | 'sso'
    | 'dev'
    | 'grant'
    | 'scim'
    | 'adm'
    | 'role'
    | 'rb'
    | 'aud',
): string {
  return `${prefix}_${randomBytes(10).toString('hex')}`;
}
