import { isRecord, isWellFormedAdminToken, isWellFormedVirtualKey } from '@gatehouse/core';
import { SCIM_TOKEN_PREFIX } from '../admin/scim-tokens.js';
import { REFRESH_TOKEN_PREFIX } from '../cli-auth/tokens.js';

/** What stands in the audit log where a secret was. */
export const REDACTED = '[redacted]';

/**
 * Field names that hold a secret (compared without case, `_` or `-`): the name alone is enough,
 * whatever the value looks like. Booleans and numbers under such a name are kept: `hasApiKey`
 * says whether a secret exists, never what it is.
 */
const SECRET_NAME =
  /(^key$|apikey$|virtualkey$|accesskey$|token$|secret$|password$|passphrase$|privatekey$|serviceaccountjson$|credentials?$|^authorization$|^cookie$)/;

/** Gatehouse's own secrets by their shape, wherever they appear in a string. */
const CHECKSUMMED = /\b(?:gth|gha)_[0-9A-Za-z]{38}\b/g;
const RANDOM_TOKEN = new RegExp(`(?:${REFRESH_TOKEN_PREFIX}|${SCIM_TOKEN_PREFIX})[A-Za-z0-9_-]{43}`, 'g');

/**
 * A copy of `value` fit for the audit log: fields whose names look secret are replaced by
 * `[redacted]`, and so is any virtual key, admin token, refresh token or SCIM token inside any
 * string, under any name.
 */
export function redact(value: unknown): unknown {
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map(redact);
  if (!isRecord(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    copy[name] = secretName(name) && !isPlainScalar(field) ? REDACTED : redact(field);
  }
  return copy;
}

function secretName(name: string): boolean {
  return SECRET_NAME.test(name.toLowerCase().replaceAll(/[-_]/g, ''));
}

function isPlainScalar(value: unknown): boolean {
  return value === null || typeof value === 'boolean' || typeof value === 'number';
}

function redactString(text: string): string {
  return text
    .replace(CHECKSUMMED, (candidate) =>
      // The checksum tells a real key from a word that merely looks like one.
      isWellFormedVirtualKey(candidate) || isWellFormedAdminToken(candidate) ? REDACTED : candidate,
    )
    .replace(RANDOM_TOKEN, REDACTED);
}
