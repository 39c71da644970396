/**
 * The virtual-key format, shared by personal and service keys.
 *
 * `gth_` + 32 base62 characters of randomness (62^32 ≈ 2^190.5) + 6 base62 characters encoding
 * the CRC32 of the random part. The fixed prefix and length let secret scanners (GitHub push
 * protection, gitleaks, trufflehog) find leaked keys with `gth_[0-9A-Za-z]{38}`, and the checksum
 * lets both them and the gateway reject typos and made-up strings without a database lookup.
 * This is the scheme GitHub uses for its own tokens.
 * @see https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/
 */

export const VIRTUAL_KEY_PREFIX = 'gth_';

/** The whole key, anchored. Scanners searching free text can drop the anchors. */
export const VIRTUAL_KEY_PATTERN = /^gth_[0-9A-Za-z]{38}$/;

const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;

/**
 * Bytes at or above this are rejected when drawing base62 digits: 248 = 4 × 62, so every digit
 * stays equally likely (a plain `byte % 62` would favour the first 8 characters).
 */
const UNBIASED_BYTE_LIMIT = 248;

/** CRC32 (IEEE 802.3, the zlib one) lookup table, built once at import. */
const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC32 of an ASCII string. Hand-written because core imports no Node modules and
 * `zlib.crc32` only arrived in Node 20.15/22.2. Callers pass base62 text only, so one byte per char.
 */
function crc32OfAscii(text: string): number {
  let crc = 0xffffffff;
  for (let index = 0; index < text.length; index++) {
    crc = (CRC32_TABLE[(crc ^ text.charCodeAt(index)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Fixed-width base62 so the checksum always occupies exactly the last six characters. */
function checksumText(randomPart: string): string {
  let value = crc32OfAscii(randomPart);
  let text = '';
  for (let index = 0; index < CHECKSUM_LENGTH; index++) {
    text = BASE62_ALPHABET.charAt(value % 62) + text;
    value = Math.floor(value / 62);
  }
  return text;
}

/** Prefix, random part and checksum, for any token kind that follows the key format. */
function generateChecksummed(prefix: string): string {
  let randomPart = '';
  const bytes = new Uint8Array(64);
  while (randomPart.length < RANDOM_LENGTH) {
    globalThis.crypto.getRandomValues(bytes);
    for (const byte of bytes) {
      if (byte >= UNBIASED_BYTE_LIMIT) continue;
      randomPart += BASE62_ALPHABET.charAt(byte % 62);
      if (randomPart.length === RANDOM_LENGTH) break;
    }
  }
  return prefix + randomPart + checksumText(randomPart);
}

function isWellFormedChecksummed(prefix: string, candidate: string): boolean {
  const length = prefix.length + RANDOM_LENGTH + CHECKSUM_LENGTH;
  if (typeof candidate !== 'string' || candidate.length !== length) return false;
  if (!candidate.startsWith(prefix) || !/^[0-9A-Za-z]+$/.test(candidate.slice(prefix.length))) return false;
  const randomPart = candidate.slice(prefix.length, prefix.length + RANDOM_LENGTH);
  return candidate.slice(length - CHECKSUM_LENGTH) === checksumText(randomPart);
}

/** A new key from the platform CSPRNG. Shown to its owner once; the gateway stores only a keyed hash. */
export function generateVirtualKey(): string {
  return generateChecksummed(VIRTUAL_KEY_PREFIX);
}

/**
 * Prefix, length, charset and checksum — no I/O, so the gateway can turn away garbage before it
 * touches a cache or the store. Accepts any input and never throws.
 */
export function isWellFormedVirtualKey(candidate: string): boolean {
  return isWellFormedChecksummed(VIRTUAL_KEY_PREFIX, candidate);
}

/**
 * Admin tokens for automation follow the key format under their own prefix (`gha_`), so a
 * scanner tells them apart from gateway keys and a typo is refused before any lookup.
 */
export const ADMIN_TOKEN_PREFIX = 'gha_';

export function generateAdminToken(): string {
  return generateChecksummed(ADMIN_TOKEN_PREFIX);
}

export function isWellFormedAdminToken(candidate: string): boolean {
  return isWellFormedChecksummed(ADMIN_TOKEN_PREFIX, candidate);
}

/** `gha_…Ab12`: enough to recognise a token in a list, nothing to use. */
export function adminTokenHint(token: string): string {
  return `${ADMIN_TOKEN_PREFIX}…${token.slice(-4)}`;
}

/**
 * A recognisable but useless fragment for lists, logs and audit entries, e.g. `gth_…Ab12`.
 * The last four characters are checksum digits: they give away at most ~24 bits about the random
 * part, leaving over 166 bits unknown.
 */
export function virtualKeyHint(key: string): string {
  if (typeof key !== 'string' || key.length < 12) return `${VIRTUAL_KEY_PREFIX}…`;
  return `${VIRTUAL_KEY_PREFIX}…${key.slice(-4)}`;
}
